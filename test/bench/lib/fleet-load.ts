// One load process of `pnpm bench fleet`: a slice of the fleet's devices, each a raw TCP socket speaking just enough
// MQTT (3.1.1 or 5) for a device that publishes QoS 1 telemetry on a fixed period: CONNECT, PUBLISH, PUBACK,
// PINGREQ. An mqtt.js client per device costs tens of KB and tens of µs per publish; here a device is a socket, a
// pre-encoded PUBLISH frame and a few slots in shared typed arrays, so 10,000+ devices fit in a few processes that
// stay far from their own limit (each reports its event-loop utilisation and how late it sent).
//
// Driven over IPC (fork, advanced serialisation) by fleet.bench.ts: `connect` → `connected`, `publish` → `result`,
// `close` → exit. Every address is on 127.0.0.0/8.
import { connect, type Socket } from 'node:net'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { framer } from './raw-mqtt.js'

export interface FleetConnectOrder {
  type: 'connect'
  host: string
  port: number
  /** Global index of this process' first device (client ids and topics are `${prefix}-${index}`). */
  first: number
  count: number
  /** Local addresses to connect from, round-robin (loopback aliases: each has its own ephemeral-port range). */
  sourceAddresses: string[]
  clientIdPrefix: string
  topicPrefix: string
  payloadBytes: number
  protocolVersion: 4 | 5
  keepaliveSeconds: number
  /** CONNECTs this process keeps outstanding while the fleet connects. */
  concurrency: number
}

export interface FleetPublishOrder {
  type: 'publish'
  /** Wall-clock ms (Date.now) at which every load process starts its devices' clocks. */
  startAt: number
  ratePerDevice: number
  warmupMs: number
  measureMs: number
  /** How long to wait for outstanding PUBACKs after the last publish. */
  drainMs: number
}

export interface FleetConnected { type: 'connected', connected: number, failed: number, firstError?: string, ms: number }

export interface FleetLoadResult {
  type: 'result'
  devices: number
  published: number
  acked: number
  /** PUBACKs with a reason code ≥ 0x80. */
  failed: number
  unacked: number
  /** Publishes skipped because the device already had SLOTS publishes without a PUBACK. */
  overflow: number
  /** Connections that closed after connecting. */
  closed: number
  windowPublished: number
  /** publish → PUBACK of the publishes sent inside the measured window, ms. */
  latencies: Float32Array
  /** Busy fraction of this process' event loop over the measured window. */
  elu: number
  /** Event-loop delay over the measured window, ms. */
  eldP99Ms: number
  eldMaxMs: number
  /** How late publishes left against their schedule in the measured window, ms. */
  lagP99Ms: number
  lagMaxMs: number
}

/** Outstanding publishes tracked per device; packet ids cycle so that `id & (SLOTS - 1)` is the slot. */
const SLOTS = 256
const MAX_ID = 255 * SLOTS

function varint (n: number): Buffer {
  const out: number[] = []
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b) } while (n > 0)
  return Buffer.from(out)
}
function str (s: string): Buffer { const b = Buffer.from(s); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]) }

let order: FleetConnectOrder
let sockets: Array<Socket | undefined> = []
let templates: Buffer[] = []
let idAt: Uint16Array
let nextId: Uint16Array
let outstanding: Uint16Array
let sentAt: Float64Array
let lastSent: Float64Array
let windowStart = Infinity
let windowEnd = Infinity
let latencies = new Float32Array(1 << 16)
let latencyCount = 0
const counts = { published: 0, acked: 0, failed: 0, overflow: 0, closed: 0, windowPublished: 0 }
let totalOutstanding = 0

function record (ms: number): void {
  if (latencyCount === latencies.length) { const grown = new Float32Array(latencies.length * 2); grown.set(latencies); latencies = grown }
  latencies[latencyCount++] = ms
}

function onPuback (d: number, body: Buffer): void {
  const id = body.readUInt16BE(0)
  const slot = d * SLOTS + (id & (SLOTS - 1))
  const t = sentAt[slot]!
  if (t === 0) return // not ours (or a duplicate)
  sentAt[slot] = 0
  outstanding[d]!--
  totalOutstanding--
  const reason = body.length > 2 ? body[2]! : 0
  if (reason >= 0x80) { counts.failed++; return }
  counts.acked++
  if (t >= windowStart && t < windowEnd) record(performance.now() - t)
}

function connectDevice (d: number): Promise<void> {
  const o = order
  const index = o.first + d
  const clientId = `${o.clientIdPrefix}-${index}`
  const topic = `${o.topicPrefix}/${index}/telemetry`
  const v5 = o.protocolVersion === 5
  const props = v5 ? Buffer.from([0]) : Buffer.alloc(0)
  // CONNECT: protocol name, level, flags (clean session/start), keep-alive, [properties], client id.
  const connectBody = Buffer.concat([str('MQTT'), Buffer.from([o.protocolVersion, 0x02, o.keepaliveSeconds >> 8, o.keepaliveSeconds & 0xff]), props, str(clientId)])
  // PUBLISH QoS 1: 0x32, topic, packet id (patched per send), [properties], payload.
  const body = Buffer.concat([str(topic), Buffer.from([0, 0]), props, Buffer.alloc(o.payloadBytes, 0x61)])
  const head = Buffer.concat([Buffer.from([0x32]), varint(body.length)])
  templates[d] = Buffer.concat([head, body])
  idAt[d] = head.length + 2 + Buffer.byteLength(topic)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: o.host, port: o.port, localAddress: o.sourceAddresses[d % o.sourceAddresses.length] })
    socket.setNoDelay(true)
    let up = false
    socket.write(Buffer.concat([Buffer.from([0x10]), varint(connectBody.length), connectBody]))
    socket.on('error', (e) => { if (!up) reject(e) })
    socket.on('close', () => {
      if (!up) { reject(new Error('closed before CONNACK')); return }
      counts.closed++
      sockets[d] = undefined
      // Whatever was in flight on it will never be acknowledged.
      for (let k = 0; k < SLOTS; k++) if (sentAt[d * SLOTS + k] !== 0) { sentAt[d * SLOTS + k] = 0; totalOutstanding-- }
      outstanding[d] = 0
    })
    socket.on('data', framer((first, b) => {
      const type = first >> 4
      if (type === 4) onPuback(d, b)
      else if (type === 2) {
        if (b[1]! !== 0) { reject(new Error(`CONNACK reason 0x${b[1]!.toString(16)}`)); socket.destroy(); return }
        up = true
        sockets[d] = socket
        lastSent[d] = performance.now()
        resolve()
      }
    }))
  })
}

async function connectAll (o: FleetConnectOrder): Promise<FleetConnected> {
  order = o
  sockets = new Array(o.count)
  templates = new Array(o.count)
  idAt = new Uint16Array(o.count)
  nextId = new Uint16Array(o.count).fill(1)
  outstanding = new Uint16Array(o.count)
  sentAt = new Float64Array(o.count * SLOTS)
  lastSent = new Float64Array(o.count)
  const t0 = performance.now()
  let next = 0; let connected = 0; let failed = 0; let firstError: string | undefined
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, async () => {
    while (next < o.count) {
      const d = next++
      try { await connectDevice(d); connected++ } catch (e) { failed++; firstError ??= (e as Error).message }
    }
  }))
  // Keep-alive: a device that has sent nothing for half its keep-alive pings (only while idle: publishing resets it).
  setInterval(() => {
    const now = performance.now()
    const ping = Buffer.from([0xc0, 0])
    for (let d = 0; d < o.count; d++) if (sockets[d] && now - lastSent[d]! > o.keepaliveSeconds * 500) { sockets[d]!.write(ping); lastSent[d] = now }
  }, 5000).unref()
  return { type: 'connected', connected, failed, firstError, ms: performance.now() - t0 }
}

function publish (d: number, now: number): void {
  const socket = sockets[d]
  if (!socket) return
  if (outstanding[d] === SLOTS) { counts.overflow++; return }
  let id = nextId[d]!
  // Skip ids whose slot is still taken (an old publish without PUBACK).
  while (sentAt[d * SLOTS + (id & (SLOTS - 1))] !== 0) id = id === MAX_ID ? 1 : id + 1
  nextId[d] = id === MAX_ID ? 1 : id + 1
  const frame = Buffer.from(templates[d]!)
  frame.writeUInt16BE(id, idAt[d]!)
  sentAt[d * SLOTS + (id & (SLOTS - 1))] = now
  outstanding[d]!++
  totalOutstanding++
  counts.published++
  if (now >= windowStart && now < windowEnd) counts.windowPublished++
  lastSent[d] = now
  socket.write(frame)
}

async function run (p: FleetPublishOrder): Promise<FleetLoadResult> {
  const n = order.count
  const period = 1000 / p.ratePerDevice
  // Device d's phase within the period: spread evenly, interleaved with the other load processes' devices.
  const phase = (d: number): number => (((order.first + d) * 0.6180339887) % 1) * period
  const byPhase = Array.from({ length: n }, (_, d) => d).sort((a, b) => phase(a) - phase(b))
  const phases = Float64Array.from(byPhase, phase)
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, p.startAt - Date.now())))
  const t0 = performance.now()
  windowStart = t0 + p.warmupMs
  windowEnd = windowStart + p.measureMs
  const eld = monitorEventLoopDelay({ resolution: 10 })
  let elu0: ReturnType<typeof performance.eventLoopUtilization> | undefined
  let elu = 0
  const lags: number[] = []
  let cycle = 0; let at = 0
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now()
      if (elu0 === undefined && now >= windowStart) { elu0 = performance.eventLoopUtilization(); eld.enable() }
      if (now >= windowEnd) {
        if (elu0) elu = performance.eventLoopUtilization(elu0).utilization
        eld.disable()
        resolve()
        return
      }
      for (;;) {
        const due = t0 + cycle * period + phases[at]!
        if (due > now) break
        const t = performance.now()
        if (due >= windowStart) lags.push(t - due)
        publish(byPhase[at]!, t)
        if (++at === n) { at = 0; cycle++ }
      }
      setTimeout(tick, 2)
    }
    tick()
  })
  const drainUntil = performance.now() + p.drainMs
  while (totalOutstanding > 0 && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 50))
  lags.sort((a, b) => a - b)
  return {
    type: 'result',
    devices: n,
    ...counts,
    unacked: totalOutstanding,
    latencies: latencies.slice(0, latencyCount),
    elu,
    eldP99Ms: eld.percentile(99) / 1e6,
    eldMaxMs: eld.max / 1e6,
    lagP99Ms: lags.length ? lags[Math.floor(lags.length * 0.99)]! : 0,
    lagMaxMs: lags.length ? lags[lags.length - 1]! : 0
  }
}

process.on('message', (m: FleetConnectOrder | FleetPublishOrder | { type: 'close' }) => {
  if (m.type === 'connect') void connectAll(m).then((r) => process.send!(r))
  else if (m.type === 'publish') void run(m).then((r) => process.send!(r))
  else if (m.type === 'close') {
    for (const s of sockets) s?.destroy()
    process.exit(0)
  }
})
process.send!({ type: 'ready' })
