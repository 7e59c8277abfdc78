import type { WatchEvent, WatchOptions } from './types.js'
import { FG_ERR_STORE_WATCH_EXPIRED } from './errors.js'

/**
 * The recent changes of a store, bounded, and the live watchers following it. `watch` replays what came after a
 * resourceVersion and then follows; a version older than what is kept is an error (the client lists again).
 */
export class ChangeLog {
  private readonly events: WatchEvent[]
  private readonly listeners = new Set<(e: WatchEvent) => void>()

  constructor (private readonly limit: number, initial: WatchEvent[] = [], private floor = '0') {
    this.events = initial.slice(-limit)
  }

  get recent (): WatchEvent[] { return this.events }

  append (event: WatchEvent): void {
    this.events.push(event)
    if (this.events.length > this.limit) this.floor = this.events.shift()!.object.metadata.resourceVersion ?? this.floor
    for (const listener of this.listeners) listener(event)
  }

  async * watch (options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
    const queue: WatchEvent[] = []
    let wake: (() => void) | undefined
    const listener = (e: WatchEvent): void => { queue.push(e); wake?.() }
    this.listeners.add(listener)
    const onAbort = (): void => wake?.()
    options.signal?.addEventListener('abort', onAbort)
    try {
      if (options.fromResourceVersion !== undefined) {
        const from = BigInt(options.fromResourceVersion)
        if (from < BigInt(this.floor)) throw FG_ERR_STORE_WATCH_EXPIRED(options.fromResourceVersion, this.floor)
        const seen = new Set(queue)
        const replay = this.events.filter((e) => BigInt(e.object.metadata.resourceVersion ?? '0') > from && !seen.has(e))
        queue.unshift(...replay)
      }
      while (!options.signal?.aborted) {
        const next = queue.shift()
        if (next === undefined) {
          await new Promise<void>((resolve) => { wake = resolve })
          wake = undefined
          continue
        }
        if (options.kind === undefined || next.object.kind === options.kind) yield next
      }
    } finally {
      this.listeners.delete(listener)
      options.signal?.removeEventListener('abort', onAbort)
    }
  }
}
