import type { WatchEvent } from './types.js'
import { FG_ERR_STORE_WATCH_EXPIRED } from './errors.js'

/**
 * The queue between a store and one watcher. The store pushes without waiting; a watcher that falls further behind
 * than `capacity` events is ended with FG_ERR_STORE_WATCH_EXPIRED (it lists again), so a stalled consumer can never
 * make the store hold unbounded memory.
 */
export class WatchChannel {
  private queue: WatchEvent[] = []
  private head = 0
  private wake: (() => void) | undefined
  private ended = false
  private error: Error | undefined

  constructor (private readonly capacity: number, private readonly kind?: string) {}

  push (event: WatchEvent, resourceVersion: string): void {
    if (this.ended) return
    if (this.kind !== undefined && event.object.kind !== this.kind) return
    if (this.queue.length - this.head >= this.capacity) {
      this.fail(FG_ERR_STORE_WATCH_EXPIRED(resourceVersion, 'this watcher fell behind'))
      return
    }
    this.queue.push(event)
    this.notify()
  }

  fail (err: Error): void {
    if (this.ended) return
    this.error = err
    this.end()
  }

  end (): void {
    this.ended = true
    this.notify()
  }

  get isEnded (): boolean { return this.ended }

  private notify (): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  /** Events as their own copies (a consumer may mutate what it gets). Ends on abort or store close; throws on failure. */
  async * iterate (signal?: AbortSignal): AsyncGenerator<WatchEvent> {
    const onAbort = (): void => this.end()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      if (signal?.aborted === true) return
      while (true) {
        if (this.head < this.queue.length) {
          const event = this.queue[this.head++]!
          if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue = this.queue.slice(this.head); this.head = 0 }
          yield structuredClone(event)
          continue
        }
        if (this.error !== undefined) throw this.error
        if (this.ended) return
        await new Promise<void>((resolve) => { this.wake = resolve })
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.ended = true
    }
  }
}
