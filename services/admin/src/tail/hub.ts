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

export interface TailHub {
  /** False while nobody listens: callers check it before building an event, so an unwatched dataflow pays nothing. */
  readonly hasReaders: boolean
  readonly readers: number
  publish: (event: TailEvent) => void
  subscribe: (filter: TailFilter, opts?: { maxQueue?: number }) => TailReader
}

export function matchesFilter (filter: TailFilter, event: TailEvent): boolean {
  if (filter.dataflow !== undefined && filter.dataflow !== event.dataflow) return false
  if (filter.namespace !== undefined && filter.namespace !== event.namespace) return false
  if (filter.direction !== undefined && filter.direction !== event.direction) return false
  if (filter.topic !== undefined) {
    const mqttTopic = event.direction === 'mqtt-to-kafka' ? event.source.topic : event.destination.topic
    if (!topicMatches(filter.topic, mqttTopic)) return false
  }
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

  offer (event: TailEvent): void {
    if (!matchesFilter(this.filter, event)) return
    if (this.size === this.ring.length) { this.pendingDrops++; return }
    const slot = (this.head + this.size) % this.ring.length
    this.ring[slot] = event
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
      for (const r of readers) r.offer(event)
    },
    subscribe (filter, opts = {}) {
      const capacity = Math.max(1, Math.floor(opts.maxQueue ?? tailDefaults.maxQueue))
      const reader = new Reader(filter, capacity, (r) => readers.delete(r))
      readers.add(reader)
      return reader
    }
  }
}
