export interface LatencySummary { count: number, p50: number, p99: number, p999: number, max: number }

/** p50 / p99 / p99.9 / max over the latencies (ms) every load process sent back, merged. */
export function percentiles (results: Array<{ latencies: Float32Array | Float64Array | number[] }>): LatencySummary {
  const all = new Float32Array(results.reduce((n, r) => n + r.latencies.length, 0))
  let at = 0
  for (const r of results) { all.set(r.latencies, at); at += r.latencies.length }
  all.sort()
  const q = (p: number): number => all.length ? all[Math.min(all.length - 1, Math.floor(all.length * p))]! : NaN
  return { count: all.length, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: all.length ? all[all.length - 1]! : NaN }
}
