/**
 * `flowgate start --workers N`: N gateway processes on one machine, one event loop each, acting as one gateway.
 * node:cluster shares the listening ports (the primary hands each new connection to the next worker), PostgreSQL
 * is the resources' store they all follow, and Redis holds the broker's sessions and retained messages and carries
 * live messages between the workers (shared-emitter.ts): a device on one worker gets what a device on another
 * publishes. Each worker runs every dataflow: MQTT → Kafka for its own devices, acknowledging each publish only
 * once Kafka has it (the promise does not depend on the other workers); Kafka → MQTT as a member of the dataflow's
 * consumer group, so the partitions are spread over the workers.
 *
 * The primary only supervises: it starts the first worker alone (it creates what the data directory must hold once,
 * such as the admin token), then the others; a worker that exits unasked is replaced; SIGTERM stops them all, each
 * draining as a single gateway does.
 */
import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import { AggregatorRegistry } from 'prom-client'
import { FG_ERR_GATEWAY_WORKER } from './errors.js'
import { answerMetricsAsks } from './worker-metrics.js'
import { relayTails } from './tail-relay.js'

/** What a worker tells the primary once it is ready. */
export interface WorkerReady { flowgate: 'ready', http: { host: string, port: number }, mqtt: { host: string, port: number } }

export interface GatewayWorkers {
  readonly http: { host: string, port: number }
  readonly mqtt: { host: string, port: number }
  readonly log: Logger
  close: () => Promise<void>
}

/** The worker's index (0 … N-1) in a worker process, undefined in any other. */
export function workerIndex (): number | undefined {
  if (!cluster.isWorker) return undefined
  const index = Number(process.env.FLOWGATE_WORKER_INDEX)
  return Number.isInteger(index) ? index : undefined
}

/** In a worker: its index and how many workers share the gateway; undefined in any other process. */
export function workerShare (): { index: number, of: number } | undefined {
  const index = workerIndex()
  const of = Number(process.env.FLOWGATE_WORKER_COUNT)
  return index !== undefined && Number.isInteger(of) && of > index ? { index, of } : undefined
}

/** In a worker: tells the primary the gateway is ready. */
export function reportReady (ready: Omit<WorkerReady, 'flowgate'>): void {
  process.send?.({ flowgate: 'ready', ...ready } satisfies WorkerReady)
}

const RESTART_DELAY_MS = 1000
const STOP_TIMEOUT_MS = 60_000

/** In the primary: starts `count` workers (the same command line, each told its index) and supervises them. */
export async function startGatewayWorkers (count: number, log: Logger): Promise<GatewayWorkers> {
  const workers = new Map<number, Worker>()
  let closing = false
  const answerMetrics = answerMetricsAsks(new AggregatorRegistry())
  const tails = relayTails()
  // Structured clone on the cluster channel: the live tail's events carry their payloads as bytes.
  cluster.setupPrimary({ serialization: 'advanced' })

  function fork (index: number): Promise<WorkerReady> {
    const worker = cluster.fork({ FLOWGATE_WORKER_INDEX: String(index), FLOWGATE_WORKER_COUNT: String(count) })
    workers.set(index, worker)
    answerMetrics(worker)
    tails.attach(index, worker)
    return new Promise((resolve, reject) => {
      let ready = false
      worker.on('message', (m: Partial<WorkerReady>) => {
        if (m?.flowgate !== 'ready' || ready) return
        ready = true
        log.info({ worker: index, pid: worker.process.pid }, 'gateway worker ready')
        resolve(m as WorkerReady)
      })
      worker.once('exit', (code, signal) => {
        if (workers.get(index) === worker) workers.delete(index)
        tails.forget(index, worker)
        if (!ready) return reject(FG_ERR_GATEWAY_WORKER(index, code, signal))
        if (closing) return
        // Its devices reconnect to the other workers, and resend what it had not acknowledged.
        log.warn({ worker: index, code, signal }, 'gateway worker exited: starting another in its place')
        setTimeout(() => {
          if (closing) return
          fork(index).catch((err: Error) => log.error({ worker: index, err: err.message }, 'gateway worker did not start again'))
        }, RESTART_DELAY_MS).unref()
      })
    })
  }

  async function close (): Promise<void> {
    closing = true
    await Promise.all([...workers.values()].map(async (w) => {
      if (w.process.exitCode !== null || w.process.signalCode !== null) return
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()))
      w.process.kill('SIGTERM')
      const timer = setTimeout(() => w.process.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }))
  }

  try {
    const first = await fork(0)
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => fork(i + 1)))
    log.info({ workers: count, mqtt: `mqtt://${first.mqtt.host}:${first.mqtt.port}`, http: `http://${first.http.host}:${first.http.port}` },
      `flowgate listening with ${count} workers: MQTT on ${first.mqtt.host}:${first.mqtt.port}, HTTP on ${first.http.host}:${first.http.port}`)
    return { http: first.http, mqtt: first.mqtt, log, close }
  } catch (err) {
    await close()
    throw err
  }
}
