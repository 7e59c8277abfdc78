// The feeding side of `pnpm bench fanout`, in the bench process: one pacer, two ways out of it — kafkajs into the
// Kafka topics a Flowgate dataflow reads, or a raw MQTT 5 QoS 1 publisher straight into aedes on the MQTT topics the
// flow would publish to. Same payloads, same schedule, so the two targets differ only in the path.
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Message, Producer } from 'kafkajs'
import { framer } from './raw-mqtt.js'
import { clockMs, encodePayload, PRIME, str, varint } from './fanout-wire.js'

export interface FeedItem { topic: number, payload: Buffer }

export interface Sender {
  /** Sends each payload to its source topic (an index into the topics the sender was made with). */
  send: (items: FeedItem[]) => void
  /** Sends still waiting for their acknowledgement (Kafka: the produce response; MQTT: the PUBACK). */
  pending: () => number
  /** Payloads whose send failed, and why the first one did. */
  failed: () => { count: number, firstError?: string }
  close: () => Promise<void>
}

/** kafkajs: one produce request per call (acks 1, as kafka-to-mqtt's paced phase), not awaited, so the pace holds. */
export function kafkaSender (producer: Producer, topics: string[]): Sender {
  let pending = 0
  let failed = 0
  let firstError: string | undefined
  return {
    send (items) {
      const byTopic = new Map<number, Message[]>()
      for (const { topic, payload } of items) {
        let list = byTopic.get(topic)
        if (!list) byTopic.set(topic, list = [])
        list.push({ value: payload })
      }
      pending += items.length
      producer.sendBatch({ acks: 1, topicMessages: [...byTopic].map(([t, messages]) => ({ topic: topics[t]!, messages })) })
        .catch((e: Error) => { failed += items.length; firstError ??= e.message })
        .finally(() => { pending -= items.length })
    },
    pending: () => pending,
    failed: () => ({ count: failed, firstError }),
    async close () {}
  }
}

/**
 * A raw MQTT 5 QoS 1 publisher to any of `topics` (raw-mqtt.ts' rawPublisher has one topic and a fixed payload):
 * the aedes target's stand-in for Kafka and the flow. All publishes of one call leave in one write.
 */
export async function mqttSender (host: string, port: number, clientId: string, topics: string[]): Promise<Sender> {
  const socket: Socket = connect(port, host)
  socket.setNoDelay(true)
  const connectBody = Buffer.concat([str('MQTT'), Buffer.from([5, 0x02, 0, 120, 0]), str(clientId)]) // v5, clean start, keep-alive 120 s
  socket.write(Buffer.concat([Buffer.from([0x10]), varint(connectBody.length), connectBody]))
  const topicFields = topics.map(str)
  const waiting = new Set<number>()
  let nextId = 1
  let failed = 0
  let firstError: string | undefined
  let up!: () => void
  let down!: (e: Error) => void
  const ready = new Promise<void>((resolve, reject) => { up = resolve; down = reject })
  socket.on('error', (e) => { firstError ??= e.message; down(e) })
  socket.on('close', () => { failed += waiting.size; waiting.clear(); down(new Error('connection closed')) })
  socket.on('data', framer((first, body) => {
    const type = first >> 4
    if (type === 4) { // PUBACK: packet id, then a reason code when the length says so
      if (!waiting.delete(body.readUInt16BE(0))) return
      const reason = body.length > 2 ? body[2]! : 0
      if (reason >= 0x80) { failed++; firstError ??= `PUBACK reason 0x${reason.toString(16)}` }
    } else if (type === 2) {
      if (body[1]! >= 0x80) down(new Error(`CONNACK reason 0x${body[1]!.toString(16)}`)); else up()
    }
  }))
  await ready
  return {
    send (items) {
      socket.cork()
      for (const { topic, payload } of items) {
        const id = nextId
        nextId = nextId === 65535 ? 1 : nextId + 1
        // PUBLISH QoS 1: topic, packet id, properties length 0, payload.
        const head = Buffer.from([id >> 8, id & 0xff, 0])
        const length = topicFields[topic]!.length + head.length + payload.length
        waiting.add(id)
        socket.write(Buffer.concat([Buffer.from([0x32]), varint(length), topicFields[topic]!, head, payload]))
      }
      socket.uncork()
    },
    pending: () => waiting.size,
    failed: () => ({ count: failed, firstError }),
    async close () { socket.end(); socket.destroy() }
  }
}

/** One priming payload per source topic: opens the whole path (for Flowgate, the group's join) before the clock. */
export function prime (sender: Sender, topicCount: number): void {
  sender.send(Array.from({ length: topicCount }, (_, topic) => ({ topic, payload: encodePayload(clockMs(), PRIME) })))
}

export interface PaceOrder {
  /** Source topics, taken round-robin. */
  topicCount: number
  /** Payloads per second over all topics. */
  rate: number
  /** On fanout-wire's clock: the first payload is due at `startAt`, the last before `endAt`. */
  startAt: number
  endAt: number
  /** Where the measured window opens: lateness and this process' event loop are measured from there. */
  windowStart: number
}

export interface PaceResult {
  sent: number
  /** Sent inside the measured window. */
  windowSent: number
  /** How late payloads left against their schedule inside the window, ms. */
  lagP99Ms: number
  lagMaxMs: number
  /** Busy fraction of the bench process' event loop (the feeder: kafkajs or the publisher) over the window. */
  elu: number
}

/**
 * Sends payload k at startAt + k / rate, each stamped with the time it actually leaves and its sequence number
 * within its topic; every tick sends what has come due since the last, so a slow tick delays payloads but never
 * drops or thins them.
 */
export async function pace (sender: Sender, o: PaceOrder): Promise<PaceResult> {
  const total = Math.floor((o.endAt - o.startAt) * o.rate / 1000)
  const seqs = new Array<number>(o.topicCount).fill(0)
  const lags: number[] = []
  let sent = 0
  let windowSent = 0
  let elu0: ReturnType<typeof performance.eventLoopUtilization> | undefined
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = clockMs()
      if (elu0 === undefined && now >= o.windowStart) elu0 = performance.eventLoopUtilization()
      const due = Math.min(total, Math.floor((now - o.startAt) * o.rate / 1000) + 1)
      const items: FeedItem[] = []
      for (; sent < due; sent++) {
        const scheduled = o.startAt + sent * 1000 / o.rate
        if (scheduled >= o.windowStart) { lags.push(now - scheduled); windowSent++ }
        const topic = sent % o.topicCount
        items.push({ topic, payload: encodePayload(now, seqs[topic]!++) })
      }
      if (items.length > 0) sender.send(items)
      if (sent === total) { resolve(); return }
      setTimeout(tick, Math.max(0, Math.min(2, o.startAt + sent * 1000 / o.rate - clockMs())))
    }
    setTimeout(tick, Math.max(0, o.startAt - clockMs()))
  })
  lags.sort((a, b) => a - b)
  return {
    sent,
    windowSent,
    lagP99Ms: lags[Math.floor(lags.length * 0.99)] ?? NaN,
    lagMaxMs: lags.at(-1) ?? NaN,
    elu: elu0 ? performance.eventLoopUtilization(elu0).utilization : NaN
  }
}
