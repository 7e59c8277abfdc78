// A Prometheus histogram read from /metrics text, its series summed (every dataflow's), so a bench can take the
// difference of two scrapes (what happened in its measured window) and say where the percentiles fall.

export interface Histogram {
  /** Upper bounds in seconds, ascending, `+Inf` last. */
  le: number[]
  /** Cumulative counts per bound. */
  cumulative: number[]
  sum: number
  count: number
}

export function readHistogram (metrics: string, name: string): Histogram {
  const byLe = new Map<number, number>()
  for (const m of metrics.matchAll(new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} ([\\d.e+-]+)$`, 'gm'))) {
    const le = m[1] === '+Inf' ? Infinity : Number(m[1])
    byLe.set(le, (byLe.get(le) ?? 0) + Number(m[2]))
  }
  const total = (suffix: string): number => [...metrics.matchAll(new RegExp(`^${name}_${suffix}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'gm'))]
    .reduce((n, m) => n + Number(m[1]), 0)
  const le = [...byLe.keys()].sort((a, b) => a - b)
  return { le, cumulative: le.map((b) => byLe.get(b)!), sum: total('sum'), count: total('count') }
}

/** `after` minus `before`: the observations made between the two scrapes. */
export function histogramDelta (before: Histogram, after: Histogram): Histogram {
  const was = new Map(before.le.map((b, i) => [b, before.cumulative[i]!]))
  return { le: after.le, cumulative: after.le.map((b, i) => after.cumulative[i]! - (was.get(b) ?? 0)), sum: after.sum - before.sum, count: after.count - before.count }
}

/** The upper bound (ms) of the bucket holding quantile `q`; NaN when empty. */
export function bucketQuantileMs (h: Histogram, q: number): number {
  const total = h.cumulative.at(-1) ?? 0
  if (total === 0) return NaN
  const at = h.cumulative.findIndex((n) => n >= total * q)
  return h.le[at]! * 1000
}

/** The share of observations above `ms` (a bucket bound). */
export function shareAboveMs (h: Histogram, ms: number): number {
  const total = h.cumulative.at(-1) ?? 0
  const at = h.le.findIndex((b) => Math.abs(b * 1000 - ms) < 1e-9)
  return total === 0 || at < 0 ? NaN : 1 - h.cumulative[at]! / total
}

export const meanMs = (h: Histogram): number => h.count > 0 ? 1000 * h.sum / h.count : NaN
