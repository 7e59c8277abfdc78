import type { Condition, LedgerCounters } from '@flowgate/resources'

export type { Condition, LedgerCounters }

/** A dataflow's observed state as the admin API shows it (Kubernetes-style conditions plus counters). */
export interface DataflowStatus {
  conditions: Condition[]
  counters: LedgerCounters
  observedGeneration?: number
}

/** Turns a destination error code into the reason a person reads in `flowgate get dataflows`. */
export function reasonOf (code: string | undefined): string {
  switch (code) {
    case 'FG_ERR_KAFKA_AUTH_FAILED': return 'AuthenticationFailed'
    case 'FG_ERR_KAFKA_UNREACHABLE': return 'BrokerUnreachable'
    case 'FG_ERR_KAFKA_NOT_ANSWERING': return 'KafkaNotAnswering'
    case 'FG_ERR_KAFKA_TOPIC_MISSING': return 'TopicMissing'
    case 'FG_ERR_KAFKA_NOT_AUTHORIZED': return 'NotAuthorized'
    case 'FG_ERR_MQTT_UNAVAILABLE':
    case 'FG_ERR_MQTT_TIMEOUT': return 'DestinationUnavailable'
    case 'FG_ERR_TRANSLATOR_UNAVAILABLE': return 'TranslatorUnavailable'
    case 'FG_ERR_DATAFLOW_UNSUPPORTED': return 'Unsupported'
    default: return code ?? 'Unknown'
  }
}

export function emptyLedger (): LedgerCounters {
  return { received: 0, sent: 0, dropped: {}, buffered: 0 }
}

/**
 * A dataflow's conditions and its ledger: `received = sent + Σ dropped + buffered`. The counters may be shared by
 * the successive flows of one dataflow (an edit hands a flow's messages to its successor, which then counts them
 * as sent): pass the same object to each generation's tracker.
 */
export class StatusTracker {
  private ready: Condition
  private degraded: Condition
  readonly counters: LedgerCounters
  private dirty = true
  /** The counters as last taken: counts may come from a predecessor's tracker, which does not mark this one dirty. */
  private taken = ''

  constructor (now: () => Date = () => new Date(), counters: LedgerCounters = emptyLedger()) {
    this.counters = counters
    const at = now().toISOString()
    this.ready = { type: 'Ready', status: 'Unknown', reason: 'Starting', lastTransitionTime: at }
    this.degraded = { type: 'Degraded', status: 'False', reason: 'Starting', lastTransitionTime: at }
    this.now = now
  }

  private readonly now: () => Date

  set (ready: 'True' | 'False', reason: string, message?: string): void {
    const degraded = ready === 'True' ? 'False' : 'True'
    if (this.ready.status !== ready || this.ready.reason !== reason) {
      const at = this.now().toISOString()
      this.ready = { type: 'Ready', status: ready, reason, ...(message ? { message } : {}), lastTransitionTime: at }
      this.degraded = { type: 'Degraded', status: degraded, reason, ...(message ? { message } : {}), lastTransitionTime: at }
    }
    this.dirty = true
  }

  /** The current Ready condition (for the endpoints' status, derived from their dataflows'). */
  get readyCondition (): Condition { return this.ready }

  count (what: 'received' | 'sent'): void { this.counters[what]++; this.dirty = true }
  drop (reason: string): void { this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1; this.dirty = true }
  setBuffered (n: number): void { if (this.counters.buffered !== n) { this.counters.buffered = n; this.dirty = true } }

  /** The status to write, or undefined when nothing changed since the last call (and `always` is not set). */
  takeIfChanged (always = false): DataflowStatus | undefined {
    const { received, sent, dropped, buffered } = this.counters
    const counted = `${received}/${sent}/${buffered}/${Object.values(dropped).join(',')}`
    if (!always && !this.dirty && counted === this.taken) return undefined
    this.dirty = false
    this.taken = counted
    return { conditions: [this.ready, this.degraded], counters: structuredClone(this.counters) }
  }
}

/**
 * An endpoint's status, derived from the dataflows that use it: an endpoint has no connection of its own, so it is
 * Ready when its dataflows reach it, not Ready with their reason when one cannot, and Unknown when none uses it.
 */
export function endpointStatus (users: Array<{ dataflow: string, ready: Condition }>, now = new Date()): { conditions: Condition[], dataflows: string[] } {
  const at = now.toISOString()
  if (users.length === 0) return { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NotInUse', message: 'no running dataflow uses this endpoint', lastTransitionTime: at }], dataflows: [] }
  const failing = users.find((u) => u.ready.status === 'False')
  const ready: Condition = failing
    ? { type: 'Ready', status: 'False', reason: failing.ready.reason, message: `dataflow ${failing.dataflow}: ${failing.ready.message ?? failing.ready.reason}`, lastTransitionTime: failing.ready.lastTransitionTime }
    : { type: 'Ready', status: 'True', reason: 'InUse', lastTransitionTime: users.map((u) => u.ready.lastTransitionTime).sort().at(-1) ?? at }
  return { conditions: [ready], dataflows: users.map((u) => u.dataflow).sort() }
}
