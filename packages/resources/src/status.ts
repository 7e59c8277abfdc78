/**
 * The status of a dataflow or endpoint as the admin API shows it: Kubernetes-style conditions, a dataflow's ledger,
 * an endpoint's users. One gateway made of several workers writes one part per worker (the store keeps them apart,
 * see @flowgate/store's status-parts); a reader sees them merged into one status here.
 */
export interface Condition {
  type: 'Ready' | 'Degraded'
  status: 'True' | 'False' | 'Unknown'
  reason: string
  message?: string
  lastTransitionTime: string
}

export interface LedgerCounters {
  received: number
  sent: number
  dropped: Record<string, number>
  buffered: number
}

export interface ResourceStatus {
  conditions: Condition[]
  counters?: LedgerCounters
  /** An endpoint's: the dataflows that use it. */
  dataflows?: string[]
  observedGeneration?: number
  /** When a writer wrote its part (a part not rewritten for STALE_PART_MS is that of a writer gone). */
  writtenAt?: string
}

/** How often a writer rewrites its part even when nothing changed, so that a reader can tell it is still there. */
export const STATUS_PART_REFRESH_MS = 30_000
const STALE_PART_MS = 3 * STATUS_PART_REFRESH_MS

/**
 * One status from the parts of several writers. Counters add up (each writer's ledger balances, so their sum does);
 * a condition is the worst any writer reports (Ready: False over Unknown over True), since one worker that cannot
 * reach Kafka is a dataflow that does not deliver all it is given; an endpoint's users are the union. Parts not
 * rewritten for a while are a writer's that is gone (a gateway restarted with fewer workers) and are left out,
 * unless no part is recent (the whole gateway is down: the last status written is what there is to show).
 */
export function mergeStatusParts (parts: Record<string, unknown>, now = Date.now()): ResourceStatus {
  const all = Object.values(parts).filter(isStatus)
  const recent = all.filter((p) => p.writtenAt === undefined || now - Date.parse(p.writtenAt) <= STALE_PART_MS)
  const live = recent.length > 0 ? recent : all
  const merged: ResourceStatus = { conditions: mergeConditions(live) }
  const ledgers = live.flatMap((p) => p.counters !== undefined ? [p.counters] : [])
  if (ledgers.length > 0) merged.counters = sumLedgers(ledgers)
  const users = live.flatMap((p) => p.dataflows ?? [])
  if (live.some((p) => p.dataflows !== undefined)) merged.dataflows = [...new Set(users)].sort()
  const generations = live.flatMap((p) => p.observedGeneration !== undefined ? [p.observedGeneration] : [])
  if (generations.length > 0) merged.observedGeneration = Math.min(...generations)
  return merged
}

function isStatus (part: unknown): part is ResourceStatus {
  return typeof part === 'object' && part !== null && Array.isArray((part as ResourceStatus).conditions)
}

function sumLedgers (ledgers: LedgerCounters[]): LedgerCounters {
  const sum: LedgerCounters = { received: 0, sent: 0, dropped: {}, buffered: 0 }
  for (const l of ledgers) {
    sum.received += l.received
    sum.sent += l.sent
    sum.buffered += l.buffered
    for (const [reason, n] of Object.entries(l.dropped)) sum.dropped[reason] = (sum.dropped[reason] ?? 0) + n
  }
  return sum
}

/** How bad a condition's status is: the merged condition is the worst, the latest transition among equals. */
function badness (c: Condition): number {
  const bad = c.type === 'Degraded' ? 'True' : 'False'
  return c.status === bad ? 2 : c.status === 'Unknown' ? 1 : 0
}

function mergeConditions (parts: ResourceStatus[]): Condition[] {
  const byType = new Map<Condition['type'], Condition>()
  for (const c of parts.flatMap((p) => p.conditions)) {
    const held = byType.get(c.type)
    if (held === undefined || badness(c) > badness(held) || (badness(c) === badness(held) && c.lastTransitionTime > held.lastTransitionTime)) byType.set(c.type, c)
  }
  return [...byType.values()]
}
