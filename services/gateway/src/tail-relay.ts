/**
 * The primary's side of the `--workers` live tail (worker-tail.ts has the workers'): it keeps each worker's readers'
 * filters, tells every worker those of the others, and hands each event a worker sends to the other workers that
 * have readers (their own hub applies the filters). Nothing here loads the admin API: the primary only supervises.
 */
import type { Worker } from 'node:cluster'

/** Worker → primary: the filters of this worker's readers, whenever they change. */
export interface TailReaders<F> { flowgate: 'tail-readers', filters: F[] }
/** Primary → worker: the filters of every other worker's readers. */
export interface TailElsewhere<F> { flowgate: 'tail-elsewhere', filters: F[] }
/** Either way: one event for readers on other workers. */
export interface TailRelay<E> { flowgate: 'tail-event', event: E }

export type TailMessage<F, E> = Partial<TailReaders<F> | TailElsewhere<F> | TailRelay<E>> | undefined

/** In the primary: relays readers' filters and events between the workers; `forget` when a worker exits. */
export function relayTails (): { attach: (index: number, worker: Worker) => void, forget: (index: number, worker: Worker) => void } {
  const workers = new Map<number, { worker: Worker, filters: unknown[] }>()
  function tellEveryone (): void {
    for (const [index, w] of workers) {
      const others = [...workers].filter(([i]) => i !== index).flatMap(([, o]) => o.filters)
      if (w.worker.isConnected()) w.worker.send({ flowgate: 'tail-elsewhere', filters: others } satisfies TailElsewhere<unknown>)
    }
  }
  return {
    attach (index, worker) {
      workers.set(index, { worker, filters: [] })
      tellEveryone()
      worker.on('message', (m: TailMessage<unknown, unknown>) => {
        if (m?.flowgate === 'tail-readers' && Array.isArray(m.filters)) {
          const entry = workers.get(index)
          if (entry?.worker === worker) { entry.filters = m.filters; tellEveryone() }
        } else if (m?.flowgate === 'tail-event' && m.event !== undefined) {
          for (const [i, w] of workers) {
            if (i !== index && w.filters.length > 0 && w.worker.isConnected()) w.worker.send({ flowgate: 'tail-event', event: m.event } satisfies TailRelay<unknown>)
          }
        }
      })
    },
    forget (index, worker) {
      if (workers.get(index)?.worker === worker && workers.delete(index)) tellEveryone()
    }
  }
}
