// A lean MQTT 5 QoS 1 publisher straight on a TCP socket: CONNECT, pre-encoded PUBLISH frames, PUBACK parsing, and
// nothing else. mqtt.js spends ~50 µs of its event loop per QoS 1 publish (packet objects, its outgoing store,
// stream writes), which on a 2-core box caps a load generator below what aedes alone can take; this one costs a
// few µs, so the bench measures the broker, not itself. It is not a general client: no will, no auth, no
// reconnect, v5 only, packet ids 1..65535 in a ring with at most `window` (≪ 65535) outstanding.
import { connect, type Socket } from 'node:net'

export interface RawPublisher {
  /** Sends one QoS 1 PUBLISH; `done(reasonCode)` runs when its PUBACK arrives (reason ≥ 0x80 is a failure). */
  publish: (done: (reasonCode: number) => void) => void
  end: () => void
}

function varint (n: number): Buffer {
  const out: number[] = []
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b) } while (n > 0)
  return Buffer.from(out)
}

function str (s: string): Buffer { const b = Buffer.from(s); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]) }

export async function rawPublisher (host: string, port: number, clientId: string, topic: string, payload: Buffer): Promise<RawPublisher> {
  const socket: Socket = connect(port, host)
  socket.setNoDelay(true)
  const connectBody = Buffer.concat([str('MQTT'), Buffer.from([5, 0x02, 0, 120, 0]), str(clientId)]) // v5, clean start, keepalive 120 s, no properties
  socket.write(Buffer.concat([Buffer.from([0x10]), varint(connectBody.length), connectBody]))

  // PUBLISH QoS 1: fixed header 0x32, topic, packet id (patched per send), properties length 0, payload.
  const body = Buffer.concat([str(topic), Buffer.from([0, 0, 0]), payload])
  const head = Buffer.concat([Buffer.from([0x32]), varint(body.length)])
  const template = Buffer.concat([head, body])
  const idAt = head.length + 2 + Buffer.byteLength(topic)

  const waiting = new Map<number, (reasonCode: number) => void>()
  let nextId = 1
  let connected!: () => void
  let failed!: (e: Error) => void
  const ready = new Promise<void>((resolve, reject) => { connected = resolve; failed = reject })
  socket.on('error', (e) => failed(e))
  socket.on('close', () => { for (const done of waiting.values()) done(0x80); waiting.clear(); failed(new Error('connection closed')) })
  socket.on('data', framer((first, body) => {
    const type = first >> 4
    if (type === 4) { // PUBACK: packet id, then a reason code when the length says so
      const id = body.readUInt16BE(0)
      const done = waiting.get(id)
      waiting.delete(id)
      done?.(body.length > 2 ? body[2]! : 0)
    } else if (type === 2) { // CONNACK: flags, reason code
      if (body[1]! >= 0x80) failed(new Error(`CONNACK reason 0x${body[1]!.toString(16)}`)); else connected()
    }
  }))
  await ready
  // Publishes released by one chunk of PUBACKs leave in one write: cork now, uncork once this tick is done.
  let corked = false
  const uncork = (): void => { corked = false; socket.uncork() }
  return {
    publish (done) {
      if (!corked) { corked = true; socket.cork(); process.nextTick(uncork) }
      const id = nextId
      nextId = nextId === 65535 ? 1 : nextId + 1
      const frame = Buffer.from(template) // a copy: the socket may still hold the previous one
      frame.writeUInt16BE(id, idAt)
      waiting.set(id, done)
      socket.write(frame)
    },
    end () { socket.end(); socket.destroy() }
  }
}

export interface RawSubscriber {
  end: () => void
}

function readVarint (buf: Buffer, at: number): { value: number, next: number } | undefined {
  let value = 0; let mul = 1; let i = at; let b
  do { if (i >= buf.length) return undefined; b = buf[i++]!; value += (b & 0x7f) * mul; mul *= 128 } while (b & 0x80)
  return { value, next: i }
}

/**
 * The receiving side, as lean: an MQTT 5 subscriber that parses PUBLISH frames by hand and answers every QoS 1 one
 * with a PUBACK, all PUBACKs for one chunk of input in one write. `onMessage` gets the payload (a view, valid
 * during the call). mqtt.js as a subscriber costs tens of µs per message, so it would measure itself.
 */
export async function rawSubscriber (host: string, port: number, clientId: string, filter: string, onMessage: (payload: Buffer) => void): Promise<RawSubscriber> {
  const socket: Socket = connect(port, host)
  socket.setNoDelay(true)
  const connectBody = Buffer.concat([str('MQTT'), Buffer.from([5, 0x02, 0, 120, 0]), str(clientId)])
  socket.write(Buffer.concat([Buffer.from([0x10]), varint(connectBody.length), connectBody]))
  const subscribeBody = Buffer.concat([Buffer.from([0, 1, 0]), str(filter), Buffer.from([0x01])]) // id 1, no properties, QoS 1
  let buf: Buffer = Buffer.alloc(0)
  let subscribed!: () => void
  let failed!: (e: Error) => void
  const ready = new Promise<void>((resolve, reject) => { subscribed = resolve; failed = reject })
  socket.on('error', (e) => failed(e))
  socket.on('close', () => failed(new Error('connection closed')))
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
    let at = 0
    const acks: number[] = []
    for (;;) {
      if (buf.length - at < 2) break
      const len = readVarint(buf, at + 1)
      if (!len || buf.length - len.next < len.value) break
      const start = len.next
      const end = start + len.value
      const type = buf[at]! >> 4
      if (type === 3) {
        const qos = (buf[at]! >> 1) & 3
        let i = start + 2 + buf.readUInt16BE(start)
        if (qos > 0) { acks.push(buf.readUInt16BE(i)); i += 2 }
        const props = readVarint(buf, i)!
        onMessage(buf.subarray(props.next + props.value, end))
      } else if (type === 2) {
        if (buf[start + 1]! >= 0x80) failed(new Error(`CONNACK reason 0x${buf[start + 1]!.toString(16)}`))
        else socket.write(Buffer.concat([Buffer.from([0x82]), varint(subscribeBody.length), subscribeBody]))
      } else if (type === 9) {
        const granted = buf[end - 1]!
        if (granted >= 0x80) failed(new Error(`SUBACK reason 0x${granted.toString(16)}`)); else subscribed()
      }
      at = end
    }
    buf = at === buf.length ? Buffer.alloc(0) : buf.subarray(at)
    if (acks.length > 0) {
      const out = Buffer.allocUnsafe(acks.length * 4)
      for (let k = 0; k < acks.length; k++) { out[k * 4] = 0x40; out[k * 4 + 1] = 2; out.writeUInt16BE(acks[k]!, k * 4 + 2) }
      socket.write(out)
    }
  })
  await ready
  return { end () { socket.end(); socket.destroy() } }
}

/** Splits MQTT frames out of a byte stream: `onFrame(firstByte, body)` per whole packet, across chunk boundaries. */
export function framer (onFrame: (first: number, body: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0)
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
    let at = 0
    for (;;) {
      if (buf.length - at < 2) break
      let len = 0; let mul = 1; let i = at + 1; let b
      do { if (i >= buf.length) { len = -1; break } b = buf[i++]!; len += (b & 0x7f) * mul; mul *= 128 } while (b & 0x80)
      if (len < 0 || buf.length - i < len) break
      onFrame(buf[at]!, buf.subarray(i, i + len))
      at = i + len
    }
    buf = at === buf.length ? Buffer.alloc(0) : buf.subarray(at)
  }
}
