// One load process of `pnpm bench fanout`: a slice of the fleet's devices, each a raw TCP socket that subscribes QoS 1
// to one topic and answers every delivery with a PUBACK — the receiving twin of fleet-load.ts' publishing devices, as
// lean, so 10,000 subscribers fit in a few processes that stay far from their own limit. Each delivery's send time
// and sequence number come from its payload (fanout-wire.ts): latency is receipt − send on one clock, and a bitmap
// per device tells a missing delivery from a duplicate.
//
// Driven over IPC (fork, advanced serialisation) by fanout-processes.ts: `connect` → `connected`, `window` (no
// answer), `status` → `status`, `result` → `result`, `close` → exit.
import { connect, type Socket } from 'node:net'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { framer } from './raw-mqtt.js'
import { clockMs, decodePayload, PRIME, str, varint } from './fanout-wire.js'

export interface FanoutConnectOrder {
  type: 'connect'
  host: string
  port: number
  /** The filter each device of this slice subscribes to, in device order. */
  topics: string[]
  /** Global index of this slice's first device (client ids are `${clientIdPrefix}-${index}`). */
  first: number
  /** Local addresses to connect from, round-robin (loopback aliases: each has its own ephemeral-port range). */
  sourceAddresses: string[]
  clientIdPrefix: string
  protocolVersion: 4 | 5
  keepaliveSeconds: number
  /** CONNECT + SUBSCRIBE exchanges this process keeps outstanding while the fleet connects. */
  concurrency: number
}

/** The measured window, on fanout-wire's clock. */
export interface FanoutWindowOrder { type: 'window', start: number, end: number }

export interface FanoutConnected { type: 'connected', subscribed: number, failed: number, firstError?: string, ms: number }

export interface FanoutStatus {
  type: 'status'
  /** Priming deliveries received. */
  primed: number
  /** Deliveries, each (device, sequence number) counted once. */
  unique: number
  /** Deliveries of a (device, sequence number) already received. */
  duplicates: number
  /** Deliveries that came at QoS 0 (the subscription asked for 1; a QoS 0 publish is delivered at 0). */
  notQos1: number
  /** Payloads that were not ours. */
  foreign: number
  /** Connections that closed after subscribing. */
  closed: number
}

export interface FanoutLoadResult extends Omit<FanoutStatus, 'type'> {
  type: 'result'
  /** Deliveries that arrived inside the window. */
  windowReceived: number
  /** receipt − send of the deliveries sent inside the window, ms. */
  latencies: Float32Array
  /** Busy fraction of this process' event loop over the window. */
  elu: number
  eldP99Ms: number
  eldMaxMs: number
}

let sockets: Array<Socket | undefined> = []
/** Per device, a byte per sequence number received (grown on demand): duplicates and missing deliveries. */
let seen: Uint8Array[] = []
const counts = { primed: 0, unique: 0, duplicates: 0, notQos1: 0, foreign: 0, closed: 0, windowReceived: 0 }
let windowStart = Infinity
let windowEnd = Infinity
let latencies = new Float32Array(1 << 16)
let latencyCount = 0

function record (ms: number): void {
  if (latencyCount === latencies.length) { const grown = new Float32Array(latencies.length * 2); grown.set(latencies); latencies = grown }
  latencies[latencyCount++] = ms
}

function markSeen (d: number, seq: number): boolean {
  let bits = seen[d]!
  if (seq >= bits.length) { const grown = new Uint8Array(Math.max(seq + 1, bits.length * 2)); grown.set(bits); bits = seen[d] = grown }
  if (bits[seq] === 1) return false
  bits[seq] = 1
  return true
}

/** One PUBLISH to device `d`: counts it, and returns its packet id when it needs a PUBACK. */
function onPublish (d: number, first: number, body: Buffer, v5: boolean): number | undefined {
  const now = clockMs()
  const qos = (first >> 1) & 3
  let i = 2 + body.readUInt16BE(0)
  let id: number | undefined
  if (qos > 0) { id = body.readUInt16BE(i); i += 2 } else counts.notQos1++
  if (v5) { let len = 0; let mul = 1; let b; do { b = body[i++]!; len += (b & 0x7f) * mul; mul *= 128 } while (b & 0x80); i += len }
  const { sentAt, seq } = decodePayload(body.subarray(i))
  if (Number.isNaN(sentAt) || !Number.isInteger(seq)) counts.foreign++
  else if (seq === PRIME) counts.primed++
  else if (!markSeen(d, seq)) counts.duplicates++
  else {
    counts.unique++
    if (now >= windowStart && now < windowEnd) counts.windowReceived++
    if (sentAt >= windowStart && sentAt < windowEnd) record(now - sentAt)
  }
  return id
}

/** CONNECT, SUBSCRIBE at QoS 1 once CONNACK came, resolve on SUBACK; then PUBACK every QoS 1 delivery. */
function connectDevice (o: FanoutConnectOrder, d: number): Promise<void> {
  const v5 = o.protocolVersion === 5
  const props = v5 ? Buffer.from([0]) : Buffer.alloc(0)
  // CONNECT: protocol name, level, flags (clean session/start), keep-alive, [properties], client id.
  const connectBody = Buffer.concat([str('MQTT'), Buffer.from([o.protocolVersion, 0x02, o.keepaliveSeconds >> 8, o.keepaliveSeconds & 0xff]), props, str(`${o.clientIdPrefix}-${o.first + d}`)])
  // SUBSCRIBE: packet id 1, [properties], the filter, options (QoS 1).
  const subscribeBody = Buffer.concat([Buffer.from([0, 1]), props, str(o.topics[d]!), Buffer.from([0x01])])
  return new Promise((resolve, reject) => {
    const socket = connect({ host: o.host, port: o.port, localAddress: o.sourceAddresses[d % o.sourceAddresses.length] })
    socket.setNoDelay(true)
    let up = false
    const acks: number[] = []
    socket.write(Buffer.concat([Buffer.from([0x10]), varint(connectBody.length), connectBody]))
    socket.on('error', (e) => { if (!up) reject(e) })
    socket.on('close', () => {
      if (!up) { reject(new Error('closed before SUBACK')); return }
      counts.closed++
      sockets[d] = undefined
    })
    const frames = framer((first, b) => {
      const type = first >> 4
      if (type === 3) { const id = onPublish(d, first, b, v5); if (id !== undefined) acks.push(id) } else if (type === 2) {
        if (b[1]! !== 0) { reject(new Error(`CONNACK reason 0x${b[1]!.toString(16)}`)); socket.destroy(); return }
        socket.write(Buffer.concat([Buffer.from([0x82]), varint(subscribeBody.length), subscribeBody]))
      } else if (type === 9) {
        const granted = b[b.length - 1]!
        if (granted !== 1) { reject(new Error(`SUBACK granted 0x${granted.toString(16)}, not QoS 1`)); socket.destroy(); return }
        up = true
        sockets[d] = socket
        resolve()
      }
    })
    socket.on('data', (chunk: Buffer) => {
      frames(chunk)
      if (acks.length === 0) return
      // Every PUBACK for one chunk of deliveries in one write (PUBACK, length 2, packet id: success in 3.1.1 and 5).
      const out = Buffer.allocUnsafe(acks.length * 4)
      for (let k = 0; k < acks.length; k++) { out[k * 4] = 0x40; out[k * 4 + 1] = 2; out.writeUInt16BE(acks[k]!, k * 4 + 2) }
      acks.length = 0
      socket.write(out)
    })
  })
}

async function connectAll (o: FanoutConnectOrder): Promise<FanoutConnected> {
  const n = o.topics.length
  sockets = new Array(n)
  seen = Array.from({ length: n }, () => new Uint8Array(64))
  const t0 = performance.now()
  let next = 0; let subscribed = 0; let failed = 0; let firstError: string | undefined
  await Promise.all(Array.from({ length: Math.min(o.concurrency, n) }, async () => {
    while (next < n) {
      const d = next++
      try { await connectDevice(o, d); subscribed++ } catch (e) { failed++; firstError ??= (e as Error).message }
    }
  }))
  // Keep-alive: a subscriber that only receives still has to send within its keep-alive (a PUBACK would do, but most
  // devices of the distinct shape never get a delivery), so every device pings at half of it.
  const ping = Buffer.from([0xc0, 0])
  setInterval(() => { for (const s of sockets) s?.write(ping) }, o.keepaliveSeconds * 500).unref()
  return { type: 'connected', subscribed, failed, firstError, ms: performance.now() - t0 }
}

const eld = monitorEventLoopDelay({ resolution: 10 })
let elu0: ReturnType<typeof performance.eventLoopUtilization> | undefined
let elu = NaN

/** Samples this process' event loop over the window (timers on the shared clock). */
function setWindow (w: FanoutWindowOrder): void {
  windowStart = w.start
  windowEnd = w.end
  setTimeout(() => { elu0 = performance.eventLoopUtilization(); eld.enable() }, Math.max(0, w.start - clockMs()))
  setTimeout(() => {
    if (elu0) elu = performance.eventLoopUtilization(elu0).utilization
    eld.disable()
  }, Math.max(0, w.end - clockMs()))
}

function status (): FanoutStatus {
  const { windowReceived: _, ...rest } = counts
  return { type: 'status', ...rest }
}

function result (): FanoutLoadResult {
  return {
    ...status(),
    type: 'result',
    windowReceived: counts.windowReceived,
    latencies: latencies.slice(0, latencyCount),
    elu,
    eldP99Ms: eld.percentile(99) / 1e6,
    eldMaxMs: eld.max / 1e6
  }
}

process.on('message', (m: FanoutConnectOrder | FanoutWindowOrder | { type: 'status' | 'result' | 'close' }) => {
  if (m.type === 'connect') void connectAll(m).then((r) => process.send!(r))
  else if (m.type === 'window') setWindow(m)
  else if (m.type === 'status') process.send!(status())
  else if (m.type === 'result') process.send!(result())
  else if (m.type === 'close') {
    for (const s of sockets) s?.destroy()
    process.exit(0)
  }
})
// The bench process gone (killed, crashed): nobody is left to send `close`, and this process shares its stdout.
process.once('disconnect', () => process.exit(0))
process.send!({ type: 'ready' })
