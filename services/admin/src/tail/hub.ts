import { topicMatches } from '@flowgate/mqtt'
import type { TailDirection, TailEvent } from './frame.js'
import { tailDefaults } from './options.js'

/** Which events a reader wants; every field left out matches everything. */
export interface TailFilter {
  dataflow?: string
  namespace?: string
  /** An MQTT topic filter, matched against the MQTT side of the message (the source going to Kafka, the destination coming back). */
  topic?: string
  direction?: TailDirection
}

export interface TailItem {
  event: TailEvent
  /** Events dropped for this reader since the item before this one. */
  dropped: number
}

export interface TailReader {
  /** The next queued item, or undefined when the queue is empty. */
  shift: () => TailItem | undefined
  readonly queued: number
  /** Called (once per burst, never inside publish) when items are waiting. */
  onReadable: (listener: () => void) => void
  close: () => void
}

/** What filters look at, known before any frame is built. */
export interface TailKey {
  dataflow: string
  namespace: string
  direction: TailDirection
  /** The MQTT side's topic: the source going to Kafka, the destination coming back. */
  mqttTopic: string
}

export interface TailHub {
  /** False while nobody listens: callers check it before building an event, so an unwatched dataflow pays nothing. */
  readonly hasReaders: boolean
  readonly readers: number
  publish: (event: TailEvent) => void
  /**
   * Publish where building the event costs something: `build` runs at most once, and only when some reader's
   * filter matches and its queue has room; a reader that is full just counts the drop. So a stalled reader costs
   * a dataflow a filter check and a counter, not a frame per message.
   */
  publishLazy: (key: TailKey, build: () => TailEvent) => void
  subscribe: (filter: TailFilter, opts?: { maxQueue?: number }) => TailReader
}

export function keyOf (event: TailEvent): TailKey {
  return {
    dataflow: event.dataflow,
    namespace: event.namespace,
    direction: event.direction,
    mqttTopic: event.direction === 'mqtt-to-kafka' ? event.source.topic : event.destination.topic
  }
}

export function matchesFilter (filter: TailFilter, key: TailKey): boolean {
  if (filter.dataflow !== undefined && filter.dataflow !== key.dataflow) return false
  if (filter.namespace !== undefined && filter.namespace !== key.namespace) return false
  if (filter.direction !== undefined && filter.direction !== key.direction) return false
  if (filter.topic !== undefined && !topicMatches(filter.topic, key.mqttTopic)) return false
  return true
}

/**
 * One bounded queue per reader (a ring buffer). A full queue drops the new event for that reader only and counts
 * it; the next item that reader takes carries the count. Publishing never waits on a reader and never allocates
 * per reader beyond a slot, so a stalled browser cannot slow a dataflow (DESIGN §3).
 */
class Reader implements TailReader {
  private readonly ring: Array<TailEvent | undefined>
  private readonly drops: number[]
  private head = 0
  private size = 0
  private pendingDrops = 0
  private listener: (() => void) | undefined
  private notifying = false
  closed = false

  constructor (readonly filter: TailFilter, capacity: number, private readonly detach: (r: Reader) => void) {
    this.ring = new Array(capacity)
    this.drops = new Array(capacity).fill(0)
  }

  get queued (): number { return this.size }

  offer (key: TailKey, event: () => TailEvent): void {
    if (!matchesFilter(this.filter, key)) return
    if (this.size === this.ring.length) { this.pendingDrops++; return }
    const slot = (this.head + this.size) % this.ring.length
    this.ring[slot] = event()
    this.drops[slot] = this.pendingDrops
    this.pendingDrops = 0
    this.size++
    if (!this.notifying && this.listener !== undefined) {
      // Deliver outside publish's call stack: the dataflow's send path returns at once.
      this.notifying = true
      setImmediate(() => { this.notifying = false; if (!this.closed) this.listener?.() })
    }
  }

  shift (): TailItem | undefined {
    if (this.size === 0) return undefined
    const event = this.ring[this.head]!
    const dropped = this.drops[this.head]!
    this.ring[this.head] = undefined
    this.head = (this.head + 1) % this.ring.length
    this.size--
    return { event, dropped }
  }

  onReadable (listener: () => void): void {
    this.listener = listener
    if (this.size > 0) listener()
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.ring.fill(undefined)
    this.size = 0
    this.detach(this)
  }
}

export function createTailHub (): TailHub {
  const readers = new Set<Reader>()
  return {
    get hasReaders () { return readers.size > 0 },
    get readers () { return readers.size },
    publish (event) {
      if (readers.size === 0) return
      const key = keyOf(event)
      for (const r of readers) r.offer(key, () => event)
    },
    publishLazy (key, build) {
      if (readers.size === 0) return
      let event: TailEvent | undefined
      const once = (): TailEvent => (event ??= build())
      for (const r of readers) r.offer(key, once)
    },
    subscribe (filter, opts = {}) {
      const capacity = Math.max(1, Math.floor(opts.maxQueue ?? tailDefaults.maxQueue))
      const reader = new Reader(filter, capacity, (r) => readers.delete(r))
      readers.add(reader)
      return reader
    }
  }
}
