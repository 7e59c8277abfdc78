/**
 * The live tail of a `--workers N` gateway: a browser's WebSocket lands on one worker, the messages it wants to see
 * pass through all of them. Each worker tells the primary the filters of its readers; the primary tells every
 * worker the filters of the readers elsewhere; a worker sends an event over the cluster channel only when such a
 * filter matches it, and the primary hands it to the workers whose readers want it. Nobody tailing, or a tail
 * filtered to one dataflow, costs the other messages a filter check and nothing more (DESIGN §3).
 *
 * The events' payloads cross as bytes: the cluster channel uses the structured-clone serialization
 * (workers.ts forks with `serialization: 'advanced'`). The primary's side is tail-relay.ts.
 */
import { createTailHub, keyOf, matchesFilter, type TailEvent, type TailFilter, type TailHub, type TailKey } from '@flowgate/admin'
import type { TailMessage, TailReaders, TailRelay } from './tail-relay.js'

/** In a worker: a hub whose readers see every worker's messages, and whose messages reach every worker's readers. */
export function workerTailHub (): TailHub {
  const local = createTailHub()
  const filters = new Set<TailFilter>()
  let elsewhere: TailFilter[] = []
  const wantedElsewhere = (key: TailKey): boolean => elsewhere.length > 0 && elsewhere.some((f) => matchesFilter(f, key))
  const send = (m: TailReaders<TailFilter> | TailRelay<TailEvent>): void => { process.send?.(m) }
  process.on('message', (m: TailMessage<TailFilter, TailEvent>) => {
    if (m?.flowgate === 'tail-elsewhere' && Array.isArray(m.filters)) elsewhere = m.filters
    else if (m?.flowgate === 'tail-event' && m.event !== undefined) local.publish(m.event)
  })
  return {
    get hasReaders () { return local.hasReaders || elsewhere.length > 0 },
    get readers () { return local.readers },
    publish (event) {
      local.publish(event)
      if (wantedElsewhere(keyOf(event))) send({ flowgate: 'tail-event', event })
    },
    publishLazy (key, build) {
      let event: TailEvent | undefined
      const once = (): TailEvent => (event ??= build())
      local.publishLazy(key, once)
      if (wantedElsewhere(key)) send({ flowgate: 'tail-event', event: once() })
    },
    subscribe (filter, opts) {
      const reader = local.subscribe(filter, opts)
      filters.add(filter)
      send({ flowgate: 'tail-readers', filters: [...filters] })
      const close = reader.close.bind(reader)
      reader.close = () => {
        close()
        if (filters.delete(filter)) send({ flowgate: 'tail-readers', filters: [...filters] })
      }
      return reader
    }
  }
}

