import { compileTopicFilter } from '@flowgate/mqtt'
import { egressDefaults, type EgressOptions } from './options.js'
import type { InboundMqttMessage, KafkaDestination, DestinationError, OutboundRecord, TranslateToKafka, Translation } from './ports.js'
import { pubackReasonFor, dropReasonOf, holdsTheFlow } from './reason-codes.js'
import { backoffDelay } from './backoff.js'
import { FG_ERR_TRANSLATOR_UNAVAILABLE } from './errors.js'
import { Fifo } from './fifo.js'

/**
 * A publish's outcome. Success is `{}`; a final drop carries a reason code (≥ 0x80) and string; `unacknowledged`
 * is the non-final outcome (the dataflow stopped before Kafka had the message): no PUBACK at all — the device is
 * disconnected and resends it, to whatever takes that topic next.
 */
export interface PublishOutcome { reasonCode?: number, reasonString?: string, unacknowledged?: true }

/** Told once of a publish's outcome; the embedded broker's deferred PUBACK is one. */
export interface OutcomeListener { settle: (outcome: PublishOutcome) => void }

/** What a flow reports as it works: metrics, status and the live tail hang off these. */
export interface FlowObserver {
  received?: (message: InboundMqttMessage) => void
  sent?: (message: InboundMqttMessage, record: OutboundRecord, result: { partition: number, offset: string | null }, latencyMs: number) => void
  dropped?: (message: InboundMqttMessage, reason: string, detail?: string) => void
  /** `degraded` carries why (the destination's error code); `ready` when sends succeed again. */
  state?: (state: 'ready' | 'degraded', reason?: string, detail?: string) => void
}

const succeeded: PublishOutcome = Object.freeze({})
/** Subtracted from a predecessor's sequence numbers on adoption: its items sort before this flow's own. */
const ADOPTED_OFFSET = 2 ** 40
const unacknowledged: PublishOutcome = Object.freeze({ unacknowledged: true, reasonString: 'dataflow-stopped' })

/** Counted in the ledger's drops, but not a loss for QoS 1 and 2: the device still has the message and resends it. */
export const LEFT_UNACKNOWLEDGED = 'unacknowledged'

interface Item {
  seq: number
  message: InboundMqttMessage
  ack: OutcomeListener
  /** Counted in this flow's `admittedBytes`. */
  admitted?: boolean
}

export interface MqttToKafkaFlowSettings {
  name: string
  namespace: string
  /** MQTT topic filters of the dataflow's source. */
  filters: string[]
  translate: TranslateToKafka
  destination: KafkaDestination
  observer?: FlowObserver
  options?: Partial<EgressOptions>
  now?: () => number
  /**
   * Admit but do not send until `release()`: a successor flow waits while its predecessor hands over what it still
   * holds, so a key's messages keep their order across a restart.
   */
  held?: boolean
}

/**
 * One running MQTT → Kafka dataflow: admits matching publishes into a bounded buffer, translates each at send
 * time (so Message Expiry counts the time waited), sends through the destination's batching producer, and settles
 * each publish's outcome — which the ingress turns into the device's PUBACK.
 *
 * A retriable failure pauses the flow: what failed is retried, in arrival order, after a jittered backoff, while
 * new publishes queue behind it up to `bufferMessages`.
 */
export class MqttToKafkaFlow {
  readonly name: string
  readonly namespace: string
  readonly filters: string[]
  private readonly matchers: Array<(topic: string) => boolean>
  private readonly translate: TranslateToKafka
  private readonly destination: KafkaDestination
  private readonly observer: FlowObserver
  private readonly options: EgressOptions
  private readonly now: () => number
  // Queues, not arrays: both are shifted once per message, and `waiting` can grow to hundreds of thousands (fifo.ts).
  private readonly pending = new Fifo<Item>()
  private readonly waiting = new Fifo<Item>()
  private retry: Item[] = []
  private inFlight = 0
  private seq = 0
  private paused = false
  private attempt = 0
  private resumeTimer: NodeJS.Timeout | undefined
  private closed = false
  private held: boolean
  /** After a hand-over: where offers and late retriable failures go. */
  private successor: MqttToKafkaFlow | undefined
  private idle: Array<() => void> = []
  /** Resolved when no send is in flight (a hand-over waits for that, not for the whole buffer). */
  private quiet: Array<() => void> = []

  constructor (settings: MqttToKafkaFlowSettings) {
    this.name = settings.name
    this.namespace = settings.namespace
    this.filters = settings.filters
    this.matchers = settings.filters.map(compileTopicFilter)
    this.translate = settings.translate
    this.destination = settings.destination
    this.observer = settings.observer ?? {}
    this.options = { ...egressDefaults, ...settings.options }
    this.now = settings.now ?? Date.now
    this.held = settings.held === true
    this.watchdog = setInterval(() => this.checkStall(), Math.min(1000, this.options.stallAfterMs))
    this.watchdog.unref()
  }

  /** When a send last settled, or the flow last went from idle to sending. */
  private lastProgress = 0
  private stalled = false
  private readonly watchdog: NodeJS.Timeout

  /** Sends in flight and none answered for `stallAfterMs`: say so, as a failed send would. */
  private checkStall (): void {
    if (this.stalled || this.inFlight === 0 || this.held) return
    const silentMs = this.now() - this.lastProgress
    if (silentMs < this.options.stallAfterMs) return
    this.stalled = true
    this.observer.state?.('degraded', 'FG_ERR_KAFKA_NOT_ANSWERING', `no answer from Kafka for ${Math.round(silentMs / 1000)} s (${this.inFlight} messages in flight); they stay unacknowledged until it answers`)
  }

  /** Every publish asks every flow: a plain loop, where `some` with an arrow made a closure per publish. */
  matches (topic: string): boolean {
    for (const match of this.matchers) if (match(topic)) return true
    return false
  }

  /** Messages held: queued, in flight, waiting to retry, and over capacity (unacknowledged). */
  get buffered (): number {
    return this.pending.length + this.inFlight + this.retry.length + this.waiting.length
  }

  accept (message: InboundMqttMessage): Promise<PublishOutcome> {
    return new Promise((resolve) => this.offer(message, { settle: resolve }))
  }

  /** `accept` without a promise per message: `ack` is settled once with the outcome. */
  offer (message: InboundMqttMessage, ack: OutcomeListener): void {
    this.observer.received?.(message)
    const item: Item = { seq: this.seq++, message, ack }
    if (this.successor !== undefined) return this.successor.adopt([item])
    if (this.closed) return this.leave(item)
    // Behind anything already waiting for room: a PUBACK settled below can resume a paused device, whose next
    // publishes arrive here (synchronously) before the waiting ones were moved up — they must not overtake them.
    if (this.waiting.length === 0 && this.hasRoom()) {
      this.admit(item)
      this.pending.push(item)
      this.pump()
    } else if (message.qos === 0) {
      this.drop(item, 'buffer-full')
    } else {
      // Not acknowledged until there is room: the device's in-flight window fills and it backs off.
      this.waiting.push(item)
    }
  }

  /**
   * Stops admitting, then waits (up to `timeoutMs`) for what is queued and in flight to settle. What is left is
   * not acknowledged: the device is disconnected and resends it (a QoS 0 message is dropped as `dataflow-stopped`).
   * With `abandon` (the process is shutting down) nothing is even said: the connections close with the process, and
   * the devices resend to the next one. Either way no device hears "done" for a message Kafka does not have.
   */
  async close (timeoutMs = 10_000, abandon = false): Promise<void> {
    this.closed = true
    this.abandon = abandon
    const leave = (item: Item): void => this.leave(item)
    for (const item of this.waiting.takeAll()) leave(item)
    if (this.buffered > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())
      ])
    }
    clearTimeout(this.resumeTimer)
    clearInterval(this.watchdog)
    this.gaveUp = true
    for (const item of [...this.retry.splice(0), ...this.pending.takeAll()].sort((a, b) => a.seq - b.seq)) leave(item)
  }

  private abandon = false
  /** Set once `close()` stopped waiting: a send that fails after that is not retried but left to the device. */
  private gaveUp = false

  /** The non-final outcome: no PUBACK (see `PublishOutcome.unacknowledged`); a QoS 0 message is simply lost. */
  private leave (item: Item): void {
    if (item.message.qos === 0) return this.drop(item, 'dataflow-stopped')
    this.discharge(item)
    this.observer.dropped?.(item.message, LEFT_UNACKNOWLEDGED)
    if (!this.abandon) item.ack.settle(unacknowledged)
  }

  /**
   * Takes over a predecessor's items, ahead of everything this flow admitted itself: they arrived first. Their
   * acknowledgements travel with them, so the devices' PUBACKs still wait for Kafka.
   */
  adopt (items: readonly Item[]): void {
    if (items.length === 0) return
    // Shifted below every own sequence number, keeping their order among themselves: items a predecessor hands
    // over one by one (sends failing after the hand-over, in any order) still line up as they arrived.
    const adopted = items.map((item) => ({ ...item, seq: item.seq - ADOPTED_OFFSET, admitted: false }))
    // Adopted ahead of the bound: they were already held (and counted by the ingress) before the hand-over.
    for (const item of adopted) this.admit(item)
    for (const item of [...this.pending.takeAll(), ...adopted].sort((a, b) => a.seq - b.seq)) this.pending.push(item)
    this.pump()
  }


  /** Starts sending what was admitted while held. */
  release (): void {
    if (!this.held) return
    this.held = false
    this.pump()
  }

  /**
   * Replaces this flow by `successor` without a gap: from now on offers go to it; once the sends in flight have
   * settled (at most `timeoutMs`), everything not yet in Kafka moves to it, in arrival order. A send still in flight
   * after that which then fails is moved too when it fails: nothing acknowledged is lost, nothing dropped.
   */
  async handOver (successor: MqttToKafkaFlow, timeoutMs = 10_000): Promise<void> {
    this.closed = true
    clearTimeout(this.resumeTimer)
    this.paused = true
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.quiet.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref())
      ])
    }
    this.successor = successor
    clearInterval(this.watchdog)
    const rest = [...this.retry.splice(0), ...this.pending.takeAll(), ...this.waiting.takeAll()].sort((a, b) => a.seq - b.seq)
    for (const item of rest) this.discharge(item)
    successor.adopt(rest)
  }

  private pump (): void {
    if (this.held) return
    while (!this.paused && this.pending.length > 0) {
      const item = this.pending.shift()!
      if (this.inFlight++ === 0) this.lastProgress = this.now()
      const translated = this.translate(item.message, this.now())
      if (translated instanceof Promise) {
        // Sends leave in arrival order even when translations answer out of order.
        // A translator that cannot answer (the split deployment's HTTP service down) is retried like a destination
        // that is down: the message waits, nothing acknowledged is lost.
        const ready = translated.catch((err: Error) => FG_ERR_TRANSLATOR_UNAVAILABLE(err) as DestinationError)
        const previous = this.ordered
        this.ordered = previous.then(() => ready).then((t) => this.dispatch(item, t))
      } else {
        this.dispatch(item, translated)
      }
    }
  }

  private ordered: Promise<void> = Promise.resolve()

  private dispatch (item: Item, translated: Translation | DestinationError): void {
    if (translated instanceof Error) {
      this.inFlight--
      this.requeue(item, translated)
      return
    }
    if (!translated.ok) {
      this.inFlight--
      this.drop(item, translated.reason, translated.detail)
      this.settled()
      return
    }
    const started = this.now()
    this.destination.send(translated.record, (err, result) => {
      this.inFlight--
      const settledAt = this.now()
      this.lastProgress = settledAt
      if (err === null) {
        if (this.attempt > 0 || this.paused || this.stalled) this.recovered()
        this.discharge(item)
        this.observer.sent?.(item.message, translated.record, result!, settledAt - started)
        item.ack.settle(succeeded)
        this.settled()
      } else if (err.permanent && !holdsTheFlow(err.code)) {
        this.drop(item, dropReasonOf(err.code), err.message)
        this.settled()
      } else {
        this.requeue(item, err)
      }
    })
  }

  /**
   * A retriable failure: retried here after a backoff, by the successor when this flow was handed over, or — when
   * `close()` has already given up on this flow — left unacknowledged, so the device's PUBACK queue moves on.
   */
  private requeue (item: Item, err: DestinationError): void {
    if (this.successor !== undefined) {
      this.discharge(item)
      this.successor.adopt([item])
      this.settled()
      return
    }
    if (this.closed && this.gaveUp) {
      this.leave(item)
      this.settled()
      return
    }
    this.retry.push(item)
    this.pause(err)
    if (this.inFlight === 0) for (const resolve of this.quiet.splice(0)) resolve()
  }

  private pause (err: DestinationError): void {
    if (this.paused) return
    this.paused = true
    this.observer.state?.('degraded', err.code, err.message)
    const delay = backoffDelay(this.attempt++, this.options.retryMinMs, this.options.retryMaxMs)
    this.resumeTimer = setTimeout(() => this.resume(), delay)
  }

  private resume (): void {
    if (this.closed) return
    if (this.inFlight > 0) {
      // Retry only once every earlier send has settled, so retried messages go out in arrival order.
      this.resumeTimer = setTimeout(() => this.resume(), 20)
      return
    }
    this.paused = false
    const again = this.retry.sort((a, b) => a.seq - b.seq)
    this.retry = []
    for (const item of [...again, ...this.pending.takeAll()]) this.pending.push(item)
    this.pump()
  }

  private recovered (): void {
    if (this.retry.length === 0 && !this.paused) {
      this.attempt = 0
      this.stalled = false
      this.observer.state?.('ready')
    }
  }

  /** Payload bytes of the messages admitted (queued, in flight, waiting to retry): bounded by `bufferBytes`. */
  private admittedBytes = 0

  private hasRoom (): boolean {
    return this.pending.length + this.inFlight + this.retry.length < this.options.bufferMessages && this.admittedBytes < this.options.bufferBytes
  }

  private admit (item: Item): void {
    item.admitted = true
    this.admittedBytes += item.message.payload.byteLength
  }

  /** The item is done here (settled, or moved to a successor). */
  private discharge (item: Item): void {
    if (!item.admitted) return
    item.admitted = false
    this.admittedBytes -= item.message.payload.byteLength
  }

  private drop (item: Item, reason: string, detail?: string): void {
    this.discharge(item)
    this.observer.dropped?.(item.message, reason, detail)
    item.ack.settle({ reasonCode: pubackReasonFor(reason), reasonString: detail ? `${reason}: ${detail}` : reason })
  }

  private settled (): void {
    while (this.waiting.length > 0 && this.hasRoom()) {
      const item = this.waiting.shift()!
      this.admit(item)
      this.pending.push(item)
    }
    if (this.waiting.length > 0 || this.pending.length > 0) this.pump()
    if (this.buffered === 0) for (const resolve of this.idle.splice(0)) resolve()
    if (this.inFlight === 0) for (const resolve of this.quiet.splice(0)) resolve()
  }
}
