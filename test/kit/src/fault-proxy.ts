import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net'
import { abortSocket } from './abort-socket.js'

/**
 * A TCP proxy between Kafka clients and one broker that injects faults: refused and cut connections, a network
 * partition (black hole), latency, and a Produce response whose partition error code is rewritten. Clients reach
 * a broker through it only if the broker advertises the proxy's port (`startSoloBroker({ advertisedPort })`):
 * Metadata hands clients the advertised address, whatever they bootstrapped from.
 */
export interface FaultProxy {
  /** Where the proxy listens, on 127.0.0.1. */
  readonly port: number
  /** Connections accepted and forwarded (refused ones not counted). */
  readonly connections: number
  /** Connections open now. */
  readonly open: number
  /** Connections accepted and closed at once while `refuse(true)`. */
  readonly refused: number
  /** Bytes forwarded client → broker. */
  readonly bytesUp: number
  /** Bytes forwarded broker → client. */
  readonly bytesDown: number
  /** Produce responses rewritten by `failNextProduce`. */
  readonly rewritten: number
  /** What each rewrite changed. */
  readonly rewrites: ReadonlyArray<{ correlationId: number, version: number, topic: string, partition: number, originalErrorCode: number, errorCode: number }>
  /** Produce request versions seen (request headers are always parsed; cheap). */
  readonly produceVersions: ReadonlySet<number>
  /** While on, new connections are accepted and reset at once. */
  refuse: (on: boolean) => void
  /** Resets every open connection, both sides. */
  cut: () => void
  /**
   * While on, existing and new connections stay open but nothing is forwarded either way (bytes are dropped).
   * Turned off, the connections that were black-holed are reset, as a real partition ends.
   */
  blackHole: (on: boolean) => void
  /** Latency added to every forwarded chunk, in order per connection and direction; 0 turns it off. */
  delay: (ms: number) => void
  /**
   * The next Produce response (with a partition of `topic`, when named) gets `errorCode` in its first partition (of
   * that topic); once, then responses pass untouched again. Produce response versions 0–8 (non-flexible).
   */
  failNextProduce: (errorCode: number, opts?: { topic?: string }) => void
  close: () => Promise<void>
}

type Decision = 'pass' | 'hold'

/**
 * Finds the frames (int32 size + payload) in a byte stream cut anywhere into chunks. Bytes pass straight through
 * except a frame's first `headerLength` bytes when they straddle chunks (held until complete, at most a few bytes:
 * the rest of the frame must come anyway) and the whole frames `onHeader` asks to hold, handed to `onFrame`.
 */
class Frames {
  private header: Buffer | undefined // a header in the making, across chunks
  private left = 0 // bytes of the current frame still to pass
  private held: Buffer[] | undefined
  private heldBytes = 0
  private heldNeed = 0

  constructor (
    private readonly headerLength: number,
    private readonly onHeader: (header: Buffer) => Decision,
    private readonly onFrame: (frame: Buffer) => Buffer
  ) {}

  push (chunk: Buffer, out: Buffer[]): void {
    let pos = 0
    const emit = (b: Buffer): void => {
      if (b.length === 0) return
      const prev = out[out.length - 1]
      // Contiguous pieces of one chunk leave as one.
      if (prev !== undefined && prev.buffer === b.buffer && prev.byteOffset + prev.length === b.byteOffset) out[out.length - 1] = Buffer.from(prev.buffer, prev.byteOffset, prev.length + b.length)
      else out.push(b)
    }
    while (pos < chunk.length) {
      if (this.held !== undefined) {
        const take = Math.min(this.heldNeed - this.heldBytes, chunk.length - pos)
        this.held.push(chunk.subarray(pos, pos + take))
        this.heldBytes += take
        pos += take
        if (this.heldBytes === this.heldNeed) {
          const frame = Buffer.concat(this.held, this.heldBytes)
          this.held = undefined
          emit(this.onFrame(frame))
        }
        continue
      }
      if (this.left > 0) {
        const take = Math.min(this.left, chunk.length - pos)
        emit(chunk.subarray(pos, pos + take))
        this.left -= take
        pos += take
        continue
      }
      // At a frame boundary: the header, whole in this chunk (the usual case) or gathered across chunks.
      let header: Buffer
      if (this.header === undefined && chunk.length - pos >= 4 && chunk.length - pos >= this.headerFor(chunk.readInt32BE(pos))) {
        header = chunk.subarray(pos, pos + this.headerFor(chunk.readInt32BE(pos)))
        pos += header.length
      } else {
        const have = this.header ?? Buffer.alloc(0)
        const need = have.length >= 4 ? this.headerFor(have.readInt32BE(0)) : 4
        const take = Math.min(need - have.length, chunk.length - pos)
        this.header = Buffer.concat([have, chunk.subarray(pos, pos + take)])
        pos += take
        if (this.header.length < need || need === 4 && this.headerFor(this.header.readInt32BE(0)) > 4) continue
        header = this.header
        this.header = undefined
      }
      const total = 4 + Math.max(0, header.readInt32BE(0))
      if (this.onHeader(header) === 'hold') {
        this.held = [header]
        this.heldBytes = header.length
        this.heldNeed = total
        if (total === header.length) {
          this.held = undefined
          emit(this.onFrame(header))
        }
      } else {
        emit(header)
        this.left = total - header.length
      }
    }
  }

  private headerFor (size: number): number {
    return 4 + Math.min(Math.max(0, size), this.headerLength - 4)
  }
}

/** One direction of a connection: drops while black-holed, delays, and keeps order. */
class Pipe {
  private queue: Array<{ due: number, data: Buffer }> = []
  private timer: NodeJS.Timeout | undefined
  private lastDue = 0
  private ended = false

  constructor (
    private readonly dest: Socket,
    private readonly src: Socket,
    private readonly delayMs: () => number,
    private readonly count: (n: number) => void
  ) {}

  send (pieces: Buffer[]): void {
    const ms = this.delayMs()
    if (ms <= 0 && this.queue.length === 0) {
      for (const p of pieces) this.write(p)
      return
    }
    // Never earlier than what is queued before it: order holds when the delay is lowered.
    const due = Math.max(Date.now() + ms, this.lastDue)
    this.lastDue = due
    for (const data of pieces) this.queue.push({ due, data })
    this.schedule()
  }

  end (): void {
    this.ended = true
    if (this.queue.length === 0 && !this.dest.destroyed) this.dest.end()
  }

  clear (): void {
    this.queue = []
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule (): void {
    if (this.timer !== undefined || this.queue.length === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      const now = Date.now()
      while (this.queue.length > 0 && this.queue[0]!.due <= now) this.write(this.queue.shift()!.data)
      if (this.queue.length > 0) this.schedule()
      else if (this.ended && !this.dest.destroyed) this.dest.end()
    }, Math.max(0, this.queue[0]!.due - Date.now()))
  }

  private write (data: Buffer): void {
    if (this.dest.destroyed) return
    this.count(data.length)
    if (!this.dest.write(data) && !this.src.isPaused()) {
      this.src.pause()
      this.dest.once('drain', () => this.src.resume())
    }
  }
}

interface Connection {
  client: Socket
  upstream: Socket
  blackHoled: boolean
  /** correlationId → Produce request version, for requests sent while a rewrite is armed. */
  produce: Map<number, number>
  up: Pipe
  down: Pipe
}

/** The first partition's error code offset in a Produce response frame (of `topic`, when named), or undefined. */
function findPartition (frame: Buffer, version: number, topic: string | undefined): { at: number, topic: string, partition: number } | undefined {
  let o = 8 // size, correlationId
  const topics = frame.readInt32BE(o); o += 4
  for (let i = 0; i < topics; i++) {
    const len = frame.readInt16BE(o); o += 2
    const name = frame.toString('utf8', o, o + len); o += len
    const partitions = frame.readInt32BE(o); o += 4
    for (let j = 0; j < partitions; j++) {
      if (topic === undefined || topic === name) return { at: o + 4, topic: name, partition: frame.readInt32BE(o) }
      o += 4 + 2 + 8 // partition, error_code, base_offset
      if (version >= 2) o += 8 // log_append_time
      if (version >= 5) o += 8 // log_start_offset
      if (version >= 8) {
        const recordErrors = frame.readInt32BE(o); o += 4
        for (let k = 0; k < recordErrors; k++) {
          o += 4 // batch_index
          const m = frame.readInt16BE(o); o += 2 + Math.max(0, m)
        }
        const m = frame.readInt16BE(o); o += 2 + Math.max(0, m) // error_message
      }
    }
  }
  return undefined
}

/**
 * Starts a proxy on 127.0.0.1:`listenPort` (0: any free port) forwarding to `target`, which is read at each new
 * connection: a test may start the proxy first (holding its port, which nothing else can take meanwhile), start a
 * broker advertising `proxy.port`, then set `target.port` to the broker's real one.
 */
export async function startFaultProxy (target: { host: string, port: number }, listenPort = 0): Promise<FaultProxy> {
  const open = new Set<Connection>()
  let refusing = false
  let blackHoled = false
  let delayMs = 0
  let armed: { errorCode: number, topic: string | undefined } | undefined
  const stats = { connections: 0, refused: 0, bytesUp: 0, bytesDown: 0 }
  const rewrites: Array<FaultProxy['rewrites'][number]> = []
  const produceVersions = new Set<number>()

  /** Resets both sides of a connection. */
  const kill = (c: Connection): void => {
    c.up.clear()
    c.down.clear()
    abortSocket(c.client)
    abortSocket(c.upstream)
    open.delete(c)
  }

  const server: Server = createServer({ noDelay: true }, (client) => {
    if (refusing) {
      stats.refused++
      client.on('error', () => {})
      client.resetAndDestroy()
      return
    }
    stats.connections++
    const upstream = connect({ host: target.host, port: target.port, noDelay: true })
    const c: Connection = {
      client,
      upstream,
      blackHoled,
      produce: new Map(),
      up: new Pipe(upstream, client, () => delayMs, (n) => { stats.bytesUp += n }),
      down: new Pipe(client, upstream, () => delayMs, (n) => { stats.bytesDown += n })
    }
    open.add(c)

    // Requests: int32 size, int16 apiKey, int16 apiVersion, int32 correlationId, … — never held.
    const requests = new Frames(12, (h) => {
      if (h.length >= 12 && h.readInt16BE(4) === 0) {
        produceVersions.add(h.readInt16BE(6))
        if (armed !== undefined) c.produce.set(h.readInt32BE(8), h.readInt16BE(6))
      }
      return 'pass'
    }, (f) => f)
    // Responses: int32 size, int32 correlationId, body — a Produce response is held whole while a rewrite is armed.
    const responses = new Frames(8, (h) => {
      if (c.produce.size === 0 || h.length < 8) return 'pass'
      const version = c.produce.get(h.readInt32BE(4))
      if (version === undefined) return 'pass'
      if (armed !== undefined && version <= 8) return 'hold'
      c.produce.delete(h.readInt32BE(4))
      return 'pass'
    }, (frame) => {
      const correlationId = frame.readInt32BE(4)
      const version = c.produce.get(correlationId)!
      c.produce.delete(correlationId)
      if (armed === undefined) return frame
      try {
        const found = findPartition(frame, version, armed.topic)
        if (found === undefined) return frame
        const originalErrorCode = frame.readInt16BE(found.at)
        frame.writeInt16BE(armed.errorCode, found.at)
        rewrites.push({ correlationId, version, topic: found.topic, partition: found.partition, originalErrorCode, errorCode: armed.errorCode })
        armed = undefined
      } catch { /* not the shape expected: pass it as it came */ }
      return frame
    })

    client.on('data', (chunk: Buffer) => {
      if (c.blackHoled) return
      const out: Buffer[] = []
      requests.push(chunk, out)
      c.up.send(out)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (c.blackHoled) return
      const out: Buffer[] = []
      responses.push(chunk, out)
      c.down.send(out)
    })
    client.on('end', () => c.up.end())
    upstream.on('end', () => c.down.end())
    // One side gone: the other is closed too, except the client of a black-holed connection, which must not learn.
    client.on('error', () => { kill(c) })
    upstream.on('error', () => { if (!c.blackHoled) kill(c) })
    // A side that closed on its own: the other gets a FIN once what is queued for it has left.
    const closed = (): void => {
      if (client.destroyed && upstream.destroyed) kill(c)
      else if (client.destroyed) c.up.end()
      else if (!c.blackHoled) c.down.end()
    }
    client.on('close', closed)
    upstream.on('close', closed)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listenPort, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as AddressInfo).port

  return {
    port,
    get connections () { return stats.connections },
    get open () { return open.size },
    get refused () { return stats.refused },
    get bytesUp () { return stats.bytesUp },
    get bytesDown () { return stats.bytesDown },
    get rewritten () { return rewrites.length },
    rewrites,
    produceVersions,
    refuse (on) { refusing = on },
    cut () { for (const c of [...open]) kill(c) },
    blackHole (on) {
      blackHoled = on
      for (const c of [...open]) {
        if (on) c.blackHoled = true
        else if (c.blackHoled) kill(c)
      }
    },
    delay (ms) { delayMs = Math.max(0, ms) },
    failNextProduce (errorCode, opts = {}) { armed = { errorCode, topic: opts.topic } },
    async close () {
      for (const c of [...open]) kill(c)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
