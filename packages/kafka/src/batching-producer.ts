import { Partitioners, type CompressionTypes, type IHeaders, type Kafka, type Message, type Producer, type RecordMetadata } from 'kafkajs'
import type { Logger } from 'pino'
import type { KafkaAcks, KafkaEndpoint } from './types.js'
import { classifyKafkaError, KafkaEndpointError, type KafkaErrorCode } from './errors.js'
import { createPartitioner } from './partitioner.js'
import { compressionType } from './codecs.js'
import { defaults, type KafkaRetry } from './options.js'
import { TopicMetadataCache, type TopicInfo } from './topic-metadata.js'

export interface SendRecord {
  topic: string
  key: Buffer | null
  value: Buffer
  /** In order; a name may repeat. */
  headers: Array<[string, Buffer]>
  /** An explicit partition (wins over the strategy). */
  partition?: number
  /** Send to this instance's static partition (`instanceId mod partitions`) whatever the endpoint's strategy. */
  staticPartition?: boolean
}

/** `offset` is null with acks Zero/None: the broker does not answer, so there is no offset to report. */
export interface SendResult { partition: number, offset: string | null }

export interface ProducerCounters {
  recordsSent: number
  bytesSent: number
  /** Produce calls (one record batch per partition each). */
  batches: number
  errors: Partial<Record<KafkaErrorCode, number>>
}

/** Called once per record: with the error, or with where the record landed. */
export type SendCallback = (err: KafkaEndpointError | null, result?: SendResult) => void

export interface SendLatency { topic: string, records: number, bytes: number, ms: number }

export interface BatchingProducerOptions {
  logger: Logger
  /** The dataflow instance id (the Static partition strategy). */
  instanceId: number
  /** Called once per produce call that the broker acknowledged. */
  onSendLatency?: (s: SendLatency) => void
  retry?: KafkaRetry
  /** Per-request broker ack timeout (ms). */
  ackTimeoutMs?: number
  /** How long "unknown topic or partition" is retried before records are dropped as `topic-missing` (ms; 10 s). */
  topicMissingGraceMs?: number
}

export interface BatchingProducer {
  /** Resolves when Kafka acknowledged the record with the endpoint's acks; rejects with a KafkaEndpointError. */
  send: (record: SendRecord) => Promise<SendResult>
  /** `send` without a promise per record (the gateway's path): `done` is called once, never synchronously. */
  sendWith: (record: SendRecord, done: SendCallback) => void
  /** Sends what is buffered and waits until everything sent so far has settled. */
  flush: () => Promise<void>
  /** Flushes, then disconnects; later sends reject with FG_ERR_KAFKA_CLOSED. */
  close: () => Promise<void>
  /** Connects now (otherwise the first send does): surfaces authentication and reachability problems early. */
  connect: () => Promise<void>
  readonly counters: ProducerCounters
  /** Whether the underlying kafkajs producer is idempotent (acks All). */
  readonly idempotent: boolean
  readonly acks: 0 | 1 | -1
}

/** Seed `kafkaAcks` → Kafka `acks` (DESIGN §2: `None` is the preview API's alias of `Zero`). */
export function kafkaAcks (acks: KafkaAcks): 0 | 1 | -1 {
  switch (acks) {
    case 'Zero': case 'None': return 0
    case 'One': return 1
    default: return -1
  }
}

// A record's size in a v2 record batch, over-estimated: varint lengths counted at their 5-byte maximum.
const BATCH_OVERHEAD = 61
function recordSize (r: SendRecord): number {
  let size = 26 + (r.key?.length ?? 0) + r.value.length
  for (const [name, value] of r.headers) size += 10 + Buffer.byteLength(name) + value.length
  return size
}

/** kafkajs takes headers as an object: a repeated name becomes an array (values keep their order per name). */
function kafkajsHeaders (headers: Array<[string, Buffer]>): IHeaders | undefined {
  if (headers.length === 0) return undefined
  const out: Record<string, Buffer | Buffer[]> = Object.create(null) as Record<string, Buffer | Buffer[]>
  for (const [name, value] of headers) {
    const seen = out[name]
    if (seen === undefined) out[name] = value
    else if (Array.isArray(seen)) seen.push(value)
    else out[name] = [seen, value]
  }
  return out
}

interface Item {
  record: SendRecord
  size: number
  partition: number
  done: SendCallback
}

interface Lane { queue: Array<{ items: Item[], done: () => void }>, inFlight: number }

export function createBatchingProducer (kafka: Kafka, endpoint: KafkaEndpoint, opts: BatchingProducerOptions): BatchingProducer {
  const logger = opts.logger.child({ component: 'kafka-producer', endpoint: `${endpoint.namespace}/${endpoint.name}` })
  const acks = kafkaAcks(endpoint.kafkaAcks)
  // Idempotence needs acks=-1 in kafkajs (it throws otherwise): acks 0/1 get a plain producer.
  const idempotent = acks === -1
  const compression: CompressionTypes = compressionType(endpoint.compression)
  const batching = endpoint.batching.mode === 'Enabled'
  const maxMessages = batching ? Math.max(1, endpoint.batching.maxMessages) : 1
  const maxBytes = batching ? Math.max(1, endpoint.batching.maxBytes) : 1
  const latencyMs = Math.max(0, endpoint.batching.latencyMs)
  const metadata = new TopicMetadataCache(kafka, logger)
  const partitioner = createPartitioner({ strategy: endpoint.partitionStrategy, instanceId: opts.instanceId })
  const counters: ProducerCounters = { recordsSent: 0, bytesSent: 0, batches: 0, errors: {} }

  let producer: Producer | undefined
  let producerReady: Promise<Producer> | undefined
  let pending: Array<Omit<Item, 'partition'>> = []
  let pendingBytes = 0
  let timer: NodeJS.Timeout | undefined
  let closed = false
  /** Set once close() flushed: a producer still connecting then is disconnected at once. */
  let released = false
  const lanes = new Map<string, Lane>()
  const unsettled = new Set<Promise<void>>()
  /** When each topic was first answered "unknown topic or partition" in the current run of such answers. */
  const topicMissingSince = new Map<string, number>()

  function newProducer (): Promise<Producer> {
    const p = kafka.producer({
      idempotent,
      maxInFlightRequests: idempotent ? Math.min(5, defaults.maxInFlightRequests) : defaults.maxInFlightRequests,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { ...(opts.retry ?? defaults.retry) }
    })
    return p.connect().then(() => {
      // Closed while connecting: this producer is nobody's, and its sockets would keep the process alive.
      if (released) { void p.disconnect().catch(() => {}); throw Object.assign(new Error('producer closed'), { code: 'FG_ERR_KAFKA_CLOSED' }) }
      producer = p
      return p
    }, (err: unknown) => {
      producerReady = undefined
      void p.disconnect().catch(() => {})
      throw err
    })
  }

  async function getProducer (): Promise<Producer> {
    if (producer != null) return producer
    producerReady ??= newProducer()
    return await producerReady
  }

  /**
   * After a send whose outcome is unknown (timeout, connection lost) kafkajs' idempotent producer has already
   * rolled its sequence numbers back; if the broker did append the batch, the next batch would reuse them and be
   * taken for a duplicate (lost) or refused as out of order. A fresh producer (new producer id) avoids both.
   */
  function resetProducer (): void {
    if (!idempotent || producer == null) return
    const old = producer
    producer = undefined
    producerReady = undefined
    void old.disconnect().catch(() => {})
  }

  function fail (items: Item[] | Array<Omit<Item, 'partition'>>, err: unknown): void {
    const e = err instanceof KafkaEndpointError ? err : new KafkaEndpointError(classifyKafkaError(err), { cause: err })
    counters.errors[e.code] = (counters.errors[e.code] ?? 0) + items.length
    for (const i of items) i.done(e)
  }

  function partitionFor (info: TopicInfo, r: SendRecord): number {
    return partitioner(info.partitions, r)
  }

  async function produce (topic: string, items: Item[]): Promise<void> {
    const messages: Message[] = items.map((i) => {
      const m: Message = { key: i.record.key, value: i.record.value, partition: i.partition }
      const headers = kafkajsHeaders(i.record.headers)
      if (headers != null) m.headers = headers
      return m
    })
    const started = performance.now()
    counters.batches++
    let res: RecordMetadata[]
    try {
      const p = await getProducer()
      res = await p.sendBatch({ acks, compression, timeout: opts.ackTimeoutMs ?? defaults.requestTimeoutMs, topicMessages: [{ topic, messages }] })
    } catch (err) {
      const c = classifyKafkaError(err)
      if (c.code === 'FG_ERR_KAFKA_TOO_LARGE' && items.length > 1) {
        // Which record was too large is not reported; isolate them so only the offender fails. Partitions of the same
        // request that the broker did accept are sent again (at least once); a fresh producer keeps sequences valid.
        logger.warn({ topic, records: items.length }, 'batch refused as too large; sending its records one by one')
        resetProducer()
        for (let k = 0; k < items.length; k++) {
          await produce(topic, [items[k]!])
          if (failedBehind(topic, items.slice(k + 1))) return
        }
        return
      }
      let failure: unknown = err
      if (c.code === 'FG_ERR_KAFKA_TOPIC_MISSING') {
        // Right after a topic is created, or while partitions move, brokers answer "unknown" for a moment: retried
        // for a while (the flow holds the messages), dropped as missing only when it lasts.
        const since = topicMissingSince.get(topic) ?? Date.now()
        topicMissingSince.set(topic, since)
        if (Date.now() - since < (opts.topicMissingGraceMs ?? 10_000)) failure = new KafkaEndpointError({ ...c, permanent: false }, { cause: err })
      }
      const retriable = !c.permanent || failure !== err
      if (retriable) {
        resetProducer()
        retriableFailure.set(topic, failure)
      }
      if (c.code === 'FG_ERR_KAFKA_TOPIC_MISSING' || !c.permanent) metadata.invalidate(topic)
      logger.debug({ topic, records: items.length, code: c.code }, 'send failed')
      fail(items, failure)
      // Records of this topic still lingering for their batch would go out on the fresh producer, and could land
      // before the failed ones are retried: they fail with them, so the caller retries all in arrival order.
      if (retriable) failLingering(topic, failure)
      return
    }
    topicMissingSince.delete(topic)
    const ms = performance.now() - started
    let bytes = 0
    for (const i of items) bytes += i.size
    counters.recordsSent += items.length
    counters.bytesSent += bytes
    opts.onSendLatency?.({ topic, records: items.length, bytes, ms })
    // Each record's offset: its partition's base offset plus its place in that partition's batch. Offsets stay far
    // below 2^53 in practice, so numbers are used; BigInt only past that (it was measurable per record).
    const next = new Map<number, number | bigint>()
    for (const r of res) {
      const offset = (r as RecordMetadata & { baseOffset?: string }).baseOffset ?? r.offset
      if (offset == null) continue
      const n = Number(offset)
      next.set(r.partition, Number.isSafeInteger(n + items.length) ? n : BigInt(offset))
    }
    for (const i of items) {
      const offset = next.get(i.partition)
      if (offset === undefined) { i.done(null, { partition: i.partition, offset: null }); continue }
      next.set(i.partition, typeof offset === 'number' ? offset + 1 : offset + 1n)
      i.done(null, { partition: i.partition, offset: String(offset) })
    }
  }

  /** One flushed batch of one topic: partitions assigned, sizes checked against the topic's limit, then sent. */
  async function sendTopicBatch (topic: string, batch: Array<Omit<Item, 'partition'>>): Promise<void> {
    let info: TopicInfo
    try {
      info = await metadata.get(topic)
    } catch (err) {
      fail(batch, err)
      return
    }
    const limit = Math.floor(info.maxMessageBytes * 0.99) - 512
    const ok: Item[] = []
    for (const b of batch) {
      try {
        const item = b as Item
        item.partition = partitionFor(info, b.record)
        // Uncompressed, a record above the limit can't be accepted: refuse it without failing its neighbours.
        // Compressed, the broker judges the compressed batch, so such a record is tried on its own.
        if (compression === 0 && BATCH_OVERHEAD + item.size > info.maxMessageBytes) {
          fail([item], new KafkaEndpointError({ code: 'FG_ERR_KAFKA_TOO_LARGE', permanent: true, reason: `record of ~${item.size} bytes exceeds ${topic}'s max.message.bytes ${info.maxMessageBytes}` }))
          continue
        }
        ok.push(item)
      } catch (err) {
        fail([b], err)
      }
    }
    // kafkajs writes one record batch per partition and never splits one: keep every request under the limit.
    let chunk: Item[] = []
    let chunkBytes = BATCH_OVERHEAD
    for (let k = 0; k < ok.length; k++) {
      const item = ok[k]!
      if (chunk.length > 0 && chunkBytes + item.size > limit) {
        await produce(topic, chunk)
        // A chunk failed retriably: the later ones must not overtake it.
        if (failedBehind(topic, ok.slice(k))) return
        chunk = []
        chunkBytes = BATCH_OVERHEAD
      }
      chunk.push(item)
      chunkBytes += item.size
    }
    if (chunk.length > 0) await produce(topic, chunk)
  }

  /** The last retriable send failure per topic, until the batches queued behind it have been failed too. */
  const retriableFailure = new Map<string, unknown>()

  /** After a retriable failure of `topic`, fails `rest` (what would have been sent after it); true when it did. */
  function failedBehind (topic: string, rest: Item[]): boolean {
    const failure = retriableFailure.get(topic)
    if (failure === undefined) return false
    if (rest.length > 0) fail(rest, failure)
    return true
  }

  function failLingering (topic: string, failure: unknown): void {
    if (!pending.some((i) => i.record.topic === topic)) return
    const lingering = pending.filter((i) => i.record.topic === topic)
    pending = pending.filter((i) => i.record.topic !== topic)
    pendingBytes = 0
    for (const i of pending) pendingBytes += i.size
    fail(lingering, failure)
  }

  // One batch in flight per topic: records with the same key keep their order. Several in flight (tried for
  // latency) let a later batch overtake an earlier one whose metadata look-up resolved later — measured by
  // batching.test.ts — so pipelining needs the send calls themselves ordered first.
  const lanesInFlight = 1
  function drive (topic: string, lane: Lane): void {
    if (lane.inFlight >= lanesInFlight) return
    const failure = retriableFailure.get(topic)
    if (failure !== undefined) {
      // The broker just failed a send for good reason to believe it is down: hand every batch queued behind it back
      // to the caller now rather than letting each wait out its own retries. The caller's buffer retries them,
      // translated again — so a message whose Message Expiry ran out meanwhile is dropped, not delivered late.
      retriableFailure.delete(topic)
      for (const queued of lane.queue.splice(0)) { fail(queued.items, failure); queued.done() }
    }
    const next = lane.queue.shift()
    if (next == null) { if (lane.inFlight === 0) lanes.delete(topic); return }
    // Batches that queued while the previous request was in flight go out together (within the batching limits):
    // one round trip for all of them, where one each made a queue that grew with every slow answer.
    let items = next.items
    const merged = [next]
    let bytes = 0
    for (const i of items) bytes += i.size
    while (lane.queue.length > 0) {
      const queued = lane.queue[0]!
      let more = 0
      for (const i of queued.items) more += i.size
      if (items.length + queued.items.length > maxMessages || bytes + more > maxBytes) break
      lane.queue.shift()
      merged.push(queued)
      items = items.concat(queued.items)
      bytes += more
    }
    lane.inFlight++
    sendTopicBatch(topic, items)
      .catch((err: unknown) => fail(items, err))
      .finally(() => { lane.inFlight--; for (const m of merged) m.done(); drive(topic, lane) })
    drive(topic, lane)
  }

  function enqueue (items: Array<Omit<Item, 'partition'>>): void {
    const byTopic = new Map<string, Array<Omit<Item, 'partition'>>>()
    for (const i of items) {
      const list = byTopic.get(i.record.topic)
      if (list == null) byTopic.set(i.record.topic, [i]); else list.push(i)
    }
    for (const [topic, list] of byTopic) {
      let lane = lanes.get(topic)
      if (lane == null) { lane = { queue: [], inFlight: 0 }; lanes.set(topic, lane) }
      let done!: () => void
      const settled = new Promise<void>((resolve) => { done = resolve })
      unsettled.add(settled)
      void settled.then(() => unsettled.delete(settled))
      lane.queue.push({ items: list as Item[], done })
      drive(topic, lane)
    }
  }

  function flushPending (): void {
    if (timer != null) { clearTimeout(timer); timer = undefined }
    if (pending.length === 0) return
    const items = pending
    pending = []
    pendingBytes = 0
    enqueue(items)
  }

  function sendWith (record: SendRecord, done: SendCallback): void {
    if (closed) {
      process.nextTick(done, new KafkaEndpointError({ code: 'FG_ERR_KAFKA_CLOSED', permanent: false, reason: 'producer is closed' }))
      return
    }
    const item = { record, size: recordSize(record), done }
    if (!batching) { enqueue([item]); return }
    // Flush first when this record would push the buffer past maxBytes, so a batch stays within it.
    if (pending.length > 0 && pendingBytes + item.size > maxBytes) flushPending()
    pending.push(item)
    pendingBytes += item.size
    if (pending.length >= maxMessages || pendingBytes >= maxBytes) flushPending()
    else if (timer == null) timer = setTimeout(flushPending, latencyMs)
  }

  function send (record: SendRecord): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => sendWith(record, (err, result) => err === null ? resolve(result!) : reject(err)))
  }

  async function flush (): Promise<void> {
    flushPending()
    while (unsettled.size > 0) await Promise.all([...unsettled])
  }

  return {
    send,
    sendWith,
    flush,
    async connect () { await getProducer() },
    async close () {
      closed = true
      await flush()
      released = true
      const p = producer
      const connecting = producerReady
      producer = undefined
      producerReady = undefined
      await Promise.all([p?.disconnect().catch(() => {}), connecting?.catch(() => {}), metadata.close()])
    },
    counters,
    idempotent,
    acks
  }
}
