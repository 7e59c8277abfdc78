/** A dataflow's observed state as the admin API shows it (Kubernetes-style conditions plus counters). */
export interface Condition {
  type: 'Ready' | 'Degraded'
  status: 'True' | 'False' | 'Unknown'
  reason: string
  message?: string
  lastTransitionTime: string
}

export interface DataflowStatus {
  conditions: Condition[]
  counters: {
    received: number
    sent: number
    dropped: Record<string, number>
    buffered: number
  }
  observedGeneration?: number
}

/** Turns a destination error code into the reason a person reads in `flowgate get dataflows`. */
export function reasonOf (code: string | undefined): string {
  switch (code) {
    case 'FG_ERR_KAFKA_AUTH_FAILED': return 'AuthenticationFailed'
    case 'FG_ERR_KAFKA_UNREACHABLE': return 'BrokerUnreachable'
    case 'FG_ERR_KAFKA_TOPIC_MISSING': return 'TopicMissing'
    case 'FG_ERR_KAFKA_NOT_AUTHORIZED': return 'NotAuthorized'
    case 'FG_ERR_MQTT_UNAVAILABLE':
    case 'FG_ERR_MQTT_TIMEOUT': return 'DestinationUnavailable'
    case 'FG_ERR_TRANSLATOR_UNAVAILABLE': return 'TranslatorUnavailable'
    default: return code ?? 'Unknown'
  }
}

export class StatusTracker {
  private ready: Condition
  private degraded: Condition
  readonly counters: DataflowStatus['counters'] = { received: 0, sent: 0, dropped: {}, buffered: 0 }
  private dirty = true

  constructor (now: () => Date = () => new Date()) {
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

  count (what: 'received' | 'sent'): void { this.counters[what]++; this.dirty = true }
  drop (reason: string): void { this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1; this.dirty = true }
  setBuffered (n: number): void { if (this.counters.buffered !== n) { this.counters.buffered = n; this.dirty = true } }

  /** The status to write, or undefined when nothing changed since the last call. */
  takeIfChanged (): DataflowStatus | undefined {
    if (!this.dirty) return undefined
    this.dirty = false
    return { conditions: [this.ready, this.degraded], counters: structuredClone(this.counters) }
  }
}
