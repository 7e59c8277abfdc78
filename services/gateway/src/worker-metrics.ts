/**
 * /metrics of a `--workers N` gateway: a scrape lands on whichever worker the primary hands the connection to, and
 * must answer for the whole gateway, not for 1/N of it. prom-client's AggregatorRegistry does the cluster part:
 * the primary asks every worker for its registry over the cluster channel and sums (counters, most gauges) or keeps
 * per-worker what the metric says. The worker that took the scrape asks the primary for that sum.
 */
import type { Worker } from 'node:cluster'
import { AggregatorRegistry, type Registry, type PrometheusContentType } from 'prom-client'

interface MetricsAsk { flowgate: 'metrics?', id: number }
interface MetricsAnswer { flowgate: 'metrics', id: number, text?: string, error?: string }

const ASK_TIMEOUT_MS = 5_000

/** In the primary: answers each worker's ask with the sum over every worker. */
export function answerMetricsAsks (aggregator: AggregatorRegistry<PrometheusContentType>): (worker: Worker) => void {
  return (worker) => {
    worker.on('message', (m: Partial<MetricsAsk>) => {
      if (m?.flowgate !== 'metrics?' || typeof m.id !== 'number') return
      const id = m.id
      aggregator.clusterMetrics().then(
        (text: string) => { worker.send({ flowgate: 'metrics', id, text } satisfies MetricsAnswer) },
        (err: Error) => { worker.send({ flowgate: 'metrics', id, error: err.message } satisfies MetricsAnswer) })
    })
  }
}

/**
 * In a worker: offers `own` to the primary's aggregation, and returns what /metrics serves — the whole gateway's
 * figures, or this worker's own if the primary does not answer in time (a scrape then still gets numbers).
 */
export function workerMetrics (own: Registry): { contentType: string, metrics: () => Promise<string> } {
  AggregatorRegistry.setRegistries([own])
  // prom-client installs a worker's answering side in AggregatorRegistry's constructor, not on import.
  void new AggregatorRegistry()
  const pending = new Map<number, (answer: MetricsAnswer) => void>()
  let nextId = 0
  process.on('message', (m: Partial<MetricsAnswer>) => {
    if (m?.flowgate === 'metrics' && typeof m.id === 'number') pending.get(m.id)?.(m as MetricsAnswer)
  })
  return {
    contentType: own.contentType,
    async metrics () {
      const id = nextId++
      const answer = await new Promise<MetricsAnswer | undefined>((resolve) => {
        const timer = setTimeout(() => { pending.delete(id); resolve(undefined) }, ASK_TIMEOUT_MS)
        pending.set(id, (a) => { clearTimeout(timer); pending.delete(id); resolve(a) })
        process.send?.({ flowgate: 'metrics?', id } satisfies MetricsAsk)
      })
      return answer?.text ?? await own.metrics()
    }
  }
}
