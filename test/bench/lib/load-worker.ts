// The MQTT load generator, run in a worker thread (see load.ts) so the publishers never share an event loop with
// what they measure. Each connection keeps up to `window` QoS 1 publishes in flight; a paced run also caps the total
// rate. A publish's latency runs from `client.publish()` to its PUBACK callback.
import { parentPort, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { connectAsync } from 'mqtt'
import type { LoadSpec, LoadResult } from './load.js'
import { rawPublisher } from './raw-mqtt.js'

const spec = workerData as LoadSpec
const post = (m: unknown): void => parentPort!.postMessage(m)

interface Conn {
  /** Sends one QoS 1 publish; `done` gets an error message when the PUBACK says it failed. */
  publish: (done: (err?: string) => void) => void
  end: () => Promise<void>
  inflight: number
}

const payload = Buffer.alloc(spec.payloadBytes, 'x') // no newline: mosquitto_sub | kcat -P splits records on '\n'
const maxSamples = 4_000_000
const samples = new Float64Array(maxSamples)
let sampleCount = 0
let published = 0
let acked = 0
let failed = 0
let measuring = false
let windowAcks = 0
let stopping = false
let firstError: string | undefined

async function connectAll (): Promise<Conn[]> {
  const conns: Conn[] = []
  // A few at a time: a burst of hundreds of CONNECTs measures the accept queue, not the broker.
  for (let i = 0; i < spec.connections; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, spec.connections - i) }, async (_, k) => {
      const id = `${spec.clientIdPrefix}-${i + k}`
      const topic = `${spec.topicPrefix}/${i + k}/telemetry`
      if (spec.client === 'raw') {
        const url = new URL(spec.url)
        const raw = await rawPublisher(url.hostname, Number(url.port), id, topic, payload)
        return {
          publish: (done) => raw.publish((rc) => done(rc >= 0x80 ? `PUBACK reason 0x${rc.toString(16)}` : undefined)),
          end: async () => raw.end(),
          inflight: 0
        } satisfies Conn
      }
      const client = await connectAsync(spec.url, { protocolVersion: spec.protocolVersion, clientId: id, clean: true, reconnectPeriod: 0, keepalive: 120, connectTimeout: 20_000 })
      client.on('error', (err) => { firstError ??= err.message })
      return {
        publish: (done) => { client.publish(topic, payload, { qos: 1 }, (err) => done(err?.message)) },
        end: async () => { await client.endAsync(true).catch(() => {}) },
        inflight: 0
      } satisfies Conn
    }))
    conns.push(...batch)
  }
  return conns
}

function publishOne (c: Conn, onDone: () => void): void {
  c.inflight++
  published++
  const t0 = performance.now()
  const inWindow = measuring
  c.publish((err) => {
    c.inflight--
    if (err !== undefined) { failed++; firstError ??= err } else {
      acked++
      if (measuring) windowAcks++
      if (inWindow && sampleCount < maxSamples) samples[sampleCount++] = performance.now() - t0
    }
    onDone()
  })
}

const conns = await connectAll()
post({ type: 'connected' })
const elu0 = performance.eventLoopUtilization()
const started = performance.now()

let tick: NodeJS.Timeout | undefined
if (spec.ratePerSecond === undefined) {
  // Closed loop: every PUBACK releases the next publish on that connection.
  const pump = (c: Conn): void => { while (!stopping && c.inflight < spec.window) publishOne(c, () => pump(c)) }
  for (const c of conns) pump(c)
} else {
  // Open loop: a 2 ms tick sends what the target rate owes by now, round-robin over connections with window room.
  const rate = spec.ratePerSecond
  let next = 0
  let sent = 0
  tick = setInterval(() => {
    const owed = Math.floor(((performance.now() - started) / 1000) * rate) - sent
    for (let n = 0; n < owed; n++) {
      let tries = 0
      while (conns[next]!.inflight >= spec.window && tries < conns.length) { next = (next + 1) % conns.length; tries++ }
      if (tries === conns.length) break // every window full: the system is behind the target rate
      publishOne(conns[next]!, () => {})
      sent++
      next = (next + 1) % conns.length
    }
  }, 2)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
await sleep(spec.warmupMs)
const ackedAtStart = acked
measuring = true
const windowStart = performance.now()
const eluStart = performance.eventLoopUtilization()
post({ type: 'window-start' })
await sleep(spec.measureMs)
measuring = false
const seconds = (performance.now() - windowStart) / 1000
const elu = performance.eventLoopUtilization(eluStart)
post({ type: 'window-end' })
stopping = true
if (tick) clearInterval(tick)
const drainUntil = performance.now() + 10_000
while (conns.some((c) => c.inflight > 0) && performance.now() < drainUntil) await sleep(20)
const unacked = conns.reduce((n, c) => n + c.inflight, 0)
await Promise.all(conns.map((c) => c.end()))

const lat = samples.subarray(0, sampleCount).sort()
const q = (p: number): number => lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]! : NaN
const result: LoadResult = {
  published,
  acked,
  failed,
  unacked,
  windowAcks: windowAcks || acked - ackedAtStart,
  seconds,
  rate: windowAcks / seconds,
  latency: { count: lat.length, p50: q(0.5), p99: q(0.99), max: lat.length ? lat[lat.length - 1]! : NaN },
  eventLoopUtilization: elu.utilization,
  totalEventLoopUtilization: performance.eventLoopUtilization(elu0).utilization,
  firstError
}
post({ type: 'result', result })
