/**
 * A Kafka → MQTT dataflow (seed: "Kafka endpoint is a dataflow source"): consumes the dataflow's topics in one
 * consumer group, translates each record (Key / Timestamp / UTF-8 headers as user properties, built-in properties
 * restored) and publishes it to the MQTT destination.
 *
 * Delivery: at least once. A partition's offset is committed only up to the last record whose publish completed
 * (PUBACK for QoS 1, handed to aedes for the embedded broker). While the destination is down the flow keeps the
 * uncommitted records, retries with backoff (the group consumer heartbeats meanwhile, so the group keeps the
 * partition), reports `degraded`, and each retry translates again, so a restored Message Expiry Interval shrinks by
 * the time waited (DESIGN §6). The group itself — rebalances, where reading starts, assignment, lag — is
 * @flowgate/kafka's group consumer; records of a batch abandoned for a rebalance are counted as dropped `uncommitted`:
 * they stay in Kafka and are read again.
 *
 * Ordering: a partition's records go out in offset order through a sliding window of publishes in flight (one
 * connection keeps their order on the wire). When a publish fails, the window drains and the flow resumes from the
 * first failed record: records after it that had already been acknowledged go again (duplicates, never gaps).
 * Partitions are handled in parallel.
 *
 * Scale-out: `instances` consumers in the same group in this process (the profile's instanceCount); Kafka spreads
 * the partitions over them, and each external destination gets one MQTT connection per instance.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { Logger } from 'pino'
import { headersFrom, toMqttJsUserProperties, translateKafkaMessage, type KafkaToMqttContext, type TranslateSettings } from '@flowgate/translate'
import { startGroupConsumer, type ConsumedRecord, type GroupBatch, type InstanceView, type KafkaClient } from '@flowgate/kafka'
import type { MqttPublisher, OutboundPublish } from '@flowgate/mqtt'
import { backoffDelay } from './backoff.js'
import { withCallbacks, type CallbackPublisher } from './callback-publisher.js'
import type { KafkaSourceFlow, KafkaSourceObserver } from './flow-starters.js'

export interface KafkaToMqttFlowOptions {
  retryMinMs: number
  retryMaxMs: number
  /** How often consumer lag is read from the group's committed offsets (it also shows while the flow is stuck). */
  lagIntervalMs: number
  /** Partitions one consumer handles at the same time (each stays in order). */
  partitionsConsumedConcurrently: number
  /**
   * Where a topic the group never committed on starts: Kafka's default, the end (only new records). Partitions of a
   * topic the group did read (added later, offsets expired) start at the beginning either way.
   */
  fromBeginning: boolean
  /** How often the consumers re-read topic metadata: a partition added to a topic is read within this time. */
  metadataMaxAgeMs: number
  /** The consumer group's session timeout: a member not heard from for this long is evicted. */
  sessionTimeoutMs: number
  /** How often a member heartbeats, also while a batch waits for MQTT (a third of the session timeout at most). */
  heartbeatIntervalMs: number
  /** How long the group waits for every member to rejoin once a rebalance started. */
  rebalanceTimeoutMs: number
  /** The most one fetch brings of a partition (see @flowgate/kafka's GroupConsumerOptions). */
  maxBytesPerPartition: number
}

export const kafkaToMqttDefaults: KafkaToMqttFlowOptions = {
  retryMinMs: 200,
  // Each wait well under the session timeout (and heartbeats run meanwhile): a rebalance is seen within seconds.
  retryMaxMs: 5_000,
  lagIntervalMs: 5_000,
  partitionsConsumedConcurrently: 4,
  fromBeginning: false,
  metadataMaxAgeMs: 10_000,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 60_000,
  // A quarter of kafkajs' 1 MiB: measured here, 9.3–10.3 → 7.6–8.6 µs of CPU per record (fewer records alive at each
  // GC); at 50 ms to a cloud broker that is still ~5 MB/s per partition, and instanceCount spreads partitions.
  maxBytesPerPartition: 256 * 1024
}

export interface KafkaToMqttFlowSettings {
  name: string
  namespace: string
  kafka: KafkaClient
  groupId: string
  topics: string[]
  /** Consumers in the group, in this process. */
  instances: number
  /** The runtime's instance id (for translation context). */
  instanceId: number
  translateSettings: TranslateSettings | undefined
  /** `dataDestination`: may use `${inputTopic}` / `${inputTopic.N}` (the Kafka topic). */
  destinationTopic: string
  qos: 0 | 1
  retain: boolean
  /** One publisher per instance (the same one may be shared, as the embedded broker is). */
  openPublisher: (instance: number) => Promise<MqttPublisher>
  observer: KafkaSourceObserver
  logger: Logger
  options?: Partial<KafkaToMqttFlowOptions>
  /** Tests and benches: called per record after its publish completed. */
  onPublished?: (instance: number, topic: string, partition: number, offset: string) => void
}

export interface KafkaToMqttFlow extends KafkaSourceFlow {
  /** Resolves once every instance has joined the group and received its assignment (first time). */
  readonly joined: Promise<void>
  readonly instances: readonly InstanceView[]
}

interface Outcome { error?: Error & { code?: string, permanent?: boolean } }

/**
 * The publishes one instance has in flight, across its partitions (issue 18, item 9): the destination's window is
 * one — an external broker's Receive Maximum is per connection — and a partition that finds it full waits for any
 * publish to complete. Per partition, 4 partitions kept 4× the window in flight: past the broker's Receive Maximum,
 * and for the embedded broker ~50 % more CPU per record (thousands of packets alive at once, promoted by the GC).
 */
interface PublishWindow {
  inflight: number
  readonly limit: number
  /** Pumps of partitions that have records and found the window full. */
  readonly waiting: Set<() => void>
  /** Lets waiting partitions take the room there is, first come first served. */
  wake: () => void
}

function publishWindow (limit: number): PublishWindow {
  const w: PublishWindow = {
    inflight: 0,
    limit: Math.max(1, limit),
    waiting: new Set(),
    wake () {
      for (const pump of w.waiting) {
        if (w.inflight >= w.limit) return
        w.waiting.delete(pump)
        pump()
      }
    }
  }
  return w
}

export function startKafkaToMqttFlow (s: KafkaToMqttFlowSettings): KafkaToMqttFlow {
  const options = { ...kafkaToMqttDefaults, ...s.options }
  const log = s.logger
  const abort = new AbortController()
  let buffered = 0
  let degraded: string | undefined
  const publishers: MqttPublisher[] = []
  const publisherOf: CallbackPublisher[] = []
  const windowOf: PublishWindow[] = []

  function setDegraded (code: string, detail: string): void {
    if (degraded === code) return
    degraded = code
    log.warn({ code, detail }, 'kafka → mqtt dataflow degraded')
    s.observer.state('degraded', code, detail)
  }
  function setReady (): void {
    if (degraded === undefined) return
    degraded = undefined
    log.info('kafka → mqtt dataflow ready')
    s.observer.state('ready')
  }

  /** Waits `ms`, in short steps, returning early once `stopped()` (a rebalance, the flow closing). */
  async function waitUnless (ms: number, stopped: () => boolean): Promise<void> {
    const until = Date.now() + ms
    while (!stopped() && Date.now() < until) await sleep(Math.min(100, until - Date.now()))
  }

  /** Resolves after `ms`, or at once when the flow closes. */
  function sleep (ms: number): Promise<void> {
    return delay(ms, undefined, { signal: abort.signal }).catch(() => {})
  }

  const ctx: KafkaToMqttContext = { now: 0, instanceId: s.instanceId, dataflow: s.name, destinationTopic: s.destinationTopic, qos: s.qos, retain: s.retain }

  /**
   * Translates (now, so expiry counts the wait) and publishes one record; `done` gets the error that should stop the
   * partition, or nothing (published, or dropped for good). Never throws.
   */
  function send (publisher: CallbackPublisher, topic: string, m: ConsumedRecord, receivedAt: number, done: (err?: Outcome['error']) => void): void {
    const headers = headersFrom(m.headers as Parameters<typeof headersFrom>[0])
    ctx.now = Date.now() // translation is synchronous: one context object serves every record
    const result = translateKafkaMessage({
      topic,
      key: m.key ?? null,
      value: m.value ?? null,
      headers,
      timestamp: Number(m.timestamp),
      offset: m.offset,
      receivedAt
    }, s.translateSettings, ctx)
    if (!result.ok) {
      s.observer.dropped(result.reason, result.detail)
      return done()
    }
    const { message } = result
    const publish: OutboundPublish = {
      topic: message.topic,
      payload: message.payload,
      qos: message.qos === 0 ? 0 : 1,
      retain: message.retain,
      properties: { ...message.properties, userProperties: toMqttJsUserProperties(message.properties.userProperties) }
    }
    publisher.publishWith(publish, (err) => {
      if (err) {
        const e = err as Error & { code?: string, permanent?: boolean }
        if (!e.permanent) return done(e)
        // The broker refuses this message for good (not authorized, topic invalid…): retrying would block the partition.
        s.observer.dropped('mqtt-refused', e.message)
        return done()
      }
      // The seed: headers MQTT cannot carry are removed, the message still goes; each removed header is counted.
      for (let i = 0; i < result.removedHeaders.nonUtf8; i++) s.observer.dropped('header-not-utf8')
      for (let i = 0; i < result.removedHeaders.tooLarge; i++) s.observer.dropped('header-too-large')
      s.observer.sent(message.payload.byteLength, Date.now() - receivedAt)
      s.observer.published?.({ topic, offset: m.offset, key: m.key ?? null, headers }, publish)
      done()
    })
  }

  /**
   * Publishes `messages[start…]` through the instance's sliding window (`window`, shared by the partitions it
   * handles); resolves with how many from `start` completed in order (the prefix that may be committed) and the first
   * error. After an error, or once `stopped()` (checked every few records), no new record goes out and the ones in
   * flight are awaited. Completions are counted, not awaited one by one: no promise per record.
   */
  function publishFrom (publisher: CallbackPublisher, window: PublishWindow, topic: string, messages: readonly ConsumedRecord[], start: number, receivedAt: number, stopped: () => boolean): Promise<{ done: number, error?: Outcome['error'] }> {
    return new Promise((resolve) => {
      const end = messages.length
      // Per record from `start`: 0 pending, 1 published, 2 failed.
      const state = new Uint8Array(end - start)
      let next = start
      let prefix = start
      let inflight = 0
      let failed: Outcome['error']
      let halted = false
      let pumping = false
      let settled = false
      const finish = (): void => {
        if (settled || inflight > 0 || (next < end && failed === undefined && !halted)) return
        settled = true
        window.waiting.delete(pump)
        resolve(failed !== undefined ? { done: prefix - start, error: failed } : { done: prefix - start })
      }
      const pump = (): void => {
        if (pumping) return
        pumping = true
        while (failed === undefined && !halted && next < end && window.inflight < window.limit) {
          if (((next - start) & 63) === 0 && stopped()) { halted = true; break }
          const index = next++
          inflight++
          window.inflight++
          send(publisher, topic, messages[index]!, receivedAt, (err) => complete(index, err))
        }
        pumping = false
        // Room taken by the other partitions: this one goes on when one of their publishes completes.
        if (failed === undefined && !halted && next < end) window.waiting.add(pump)
        finish()
      }
      const complete = (index: number, err: Outcome['error']): void => {
        inflight--
        window.inflight--
        state[index - start] = err ? 2 : 1
        if (err && failed === undefined) failed = err
        while (prefix < next && state[prefix - start] === 1) prefix++
        // The freed room goes to a partition that was waiting first, so partitions take turns.
        window.wake()
        if (failed === undefined && !halted) pump()
        else finish()
      }
      pump()
    })
  }

  /**
   * One batch of a partition: publishes from the first record not yet delivered, commits each delivered prefix, and
   * after a failure waits (with backoff) and goes again from the failed record, until every record is delivered or
   * the group consumer says stop (a rebalance, the flow closing).
   */
  async function deliver (batch: GroupBatch): Promise<void> {
    const publisher = publisherOf[batch.instance]!
    const window = windowOf[batch.instance]!
    const records = batch.records
    const receivedAt = Date.now()
    for (const m of records) s.observer.received(m.value?.byteLength ?? 0)
    buffered += records.length
    let i = 0
    let attempt = 0
    try {
      while (i < records.length && !batch.stopped()) {
        const { done, error } = await publishFrom(publisher, window, batch.topic, records, i, receivedAt, batch.stopped)
        if (done > 0) {
          i += done
          buffered -= done
          // Committed only for what MQTT acknowledged.
          await batch.commit(i)
          if (s.onPublished) for (let k = i - done; k < i; k++) s.onPublished(batch.instance, batch.topic, batch.partition, records[k]!.offset)
        }
        if (error) {
          setDegraded(error.code ?? 'FG_ERR_MQTT_UNAVAILABLE', error.message)
          await waitUnless(backoffDelay(attempt++, options.retryMinMs, options.retryMaxMs), batch.stopped)
        } else {
          attempt = 0
          setReady()
        }
      }
    } finally {
      const left = records.length - i
      if (left > 0) {
        buffered -= left
        // Not committed: Kafka still has them and the partition's next reader (this member or another) reads them again.
        for (let k = 0; k < left; k++) s.observer.dropped('uncommitted')
      }
    }
  }

  const group = startGroupConsumer({
    kafka: s.kafka,
    groupId: s.groupId,
    topics: s.topics,
    instances: s.instances,
    options,
    logger: log,
    retryDelay: (attempt) => backoffDelay(attempt, options.retryMinMs, options.retryMaxMs),
    async prepare (instance) {
      const publisher = publisherOf[instance] ??= withCallbacks(await s.openPublisher(instance))
      if (!publishers.includes(publisher)) publishers.push(publisher)
      windowOf[instance] ??= publishWindow(publisher.maxInflight)
    },
    onBatch: deliver,
    onError: (err) => setDegraded(err.code, err.message),
    ...(s.observer.lag ? { onLag: s.observer.lag } : {})
  })

  return {
    get buffered () { return buffered },
    joined: group.joined,
    instances: group.instances,
    async close () {
      abort.abort()
      await group.close()
      await Promise.all(publishers.splice(0).map((p) => p.close().catch(() => {})))
    }
  }
}
