import { Worker } from 'node:worker_threads'

/** A pool of MQTT publishers: `connections` mqtt.js clients, each with up to `window` QoS 1 publishes in flight. */
export interface LoadSpec {
  url: string
  connections: number
  window: number
  payloadBytes: number
  /** Connection i publishes to `${topicPrefix}/${i}/telemetry`. */
  topicPrefix: string
  clientIdPrefix: string
  protocolVersion: 4 | 5
  /** `mqttjs`: mqtt.js 5 clients; `raw`: the lean MQTT 5 publisher of raw-mqtt.ts (v5 only), cheap enough not to be the limit. */
  client: 'mqttjs' | 'raw'
  /** Publishing before the measured window (connections warm, batches formed, JIT done). */
  warmupMs: number
  measureMs: number
  /** Total publishes per second across all connections; undefined: as fast as the windows allow (closed loop). */
  ratePerSecond?: number
}

export interface LoadResult {
  published: number
  acked: number
  failed: number
  /** Publishes still without a PUBACK when the run stopped waiting. */
  unacked: number
  /** PUBACKs received inside the measured window. */
  windowAcks: number
  seconds: number
  /** windowAcks / seconds: publish → PUBACK completions per second. */
  rate: number
  /** publish() → PUBACK of the publishes started inside the measured window, ms. */
  latency: { count: number, p50: number, p99: number, max: number }
  /** Busy fraction of the load generator's own event loop in the window: near 1 means it measured itself. */
  eventLoopUtilization: number
  totalEventLoopUtilization: number
  firstError?: string
}

export interface LoadHooks {
  /** Called when the measured window opens and closes (e.g. to read Kafka end offsets or a process' CPU time). */
  onWindowStart?: () => void | Promise<void>
  onWindowEnd?: () => void | Promise<void>
}

/** Runs the publishers in a worker thread (own event loop, own core when one is free) and returns what they saw. */
export async function runLoad (spec: LoadSpec, hooks: LoadHooks = {}): Promise<LoadResult> {
  // load-worker.mjs registers tsx in the worker, then loads load-worker.ts.
  const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), { workerData: spec })
  const pending: Array<Promise<unknown>> = []
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      let reported = false
      worker.on('message', (m: { type: string, result?: LoadResult }) => {
        if (m.type === 'window-start' && hooks.onWindowStart) pending.push(Promise.resolve(hooks.onWindowStart()))
        if (m.type === 'window-end' && hooks.onWindowEnd) pending.push(Promise.resolve(hooks.onWindowEnd()))
        if (m.type === 'result') reported = true
        if (m.type === 'result') void Promise.all(pending).then(() => resolve(m.result!), reject)
      })
      worker.on('error', reject)
      worker.on('exit', (code) => reported || reject(new Error(`load worker exited (${code}) before reporting`)))
    })
  } finally {
    await worker.terminate()
  }
}
