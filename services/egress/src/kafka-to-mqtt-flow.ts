/**
 * A Kafka → MQTT dataflow (seed: "Kafka endpoint is a dataflow source"): consumes the dataflow's topics in one
 * consumer group, translates each record (Key / Timestamp / UTF-8 headers as user properties, built-in properties
 * restored) and publishes it to the MQTT destination.
 *
 * Delivery: at least once. A partition's offset is committed only up to the last record whose publish completed
 * (PUBACK for QoS 1, handed to aedes for the embedded broker). While the destination is down the flow keeps the
 * uncommitted records, retries with backoff (heartbeating, so the group keeps the partition), reports `degraded`,
 * and each retry translates again, so a restored Message Expiry Interval shrinks by the time waited (DESIGN §6).
 *
 * The group (issue 18, item 7): every wait stays well under the session timeout and a timer heartbeats while a batch
 * is in hand (publishing or backing off), so a member stuck on the MQTT side keeps its partitions. A heartbeat that
 * says the group is rebalancing (or no longer knows this member) is not swallowed: the batch stops taking new
 * records, lets the publishes in flight finish, commits the acknowledged prefix and throws the error so that kafkajs
 * rejoins — within the rebalance timeout, never publishing next to the partition's next owner. Records of an
 * abandoned batch are counted as dropped `uncommitted`: they stay in Kafka and are read again.
 *
 * Where reading starts (item 8): only a topic the group has never committed on starts at the end — its partitions'
 * end offsets when the flow starts, committed as soon as a partition is first handed out. Every other partition
 * without a committed offset (added to the topic later, or its offset expired) starts at its beginning: the consumer
 * subscribes `fromBeginning`, and re-reads metadata every `metadataMaxAgeMs` so a partition added later is noticed.
 *
 * Ordering: a partition's records go out in offset order through a sliding window of publishes in flight (one
 * connection keeps their order on the wire). When a publish fails, the window drains and the flow resumes from the
 * first failed record: records after it that had already been acknowledged go again (duplicates, never gaps).
 * Partitions are handled in parallel.
 *
 * Scale-out: `instances` consumers in the same group in this process (the profile's instanceCount); Kafka spreads
 * the partitions over them, and each external destination gets one MQTT connection per instance.
 */
import type { Admin, Consumer, Kafka, KafkaMessage as KafkajsMessage } from 'kafkajs'
import type { Logger } from 'pino'
import { headersFrom, toMqttJsUserProperties, translateKafkaMessage, type KafkaToMqttContext, type TranslateSettings } from '@flowgate/translate'
import { toKafkaEndpointError } from '@flowgate/kafka'
import type { MqttPublisher, OutboundPublish } from '@flowgate/mqtt'
import { backoffDelay } from './backoff.js'
import { consumerAssigners } from './subscription-assigner.js'
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
  rebalanceTimeoutMs: 60_000
}

export interface KafkaToMqttFlowSettings {
  name: string
  namespace: string
  kafka: Kafka
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

export interface InstanceView {
  readonly assigned: Array<{ topic: string, partition: number }>
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

/** Heartbeat / commit errors after which kafkajs must rejoin the group (its runner does on these, thrown from eachBatch). */
const rejoinErrors = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'NOT_COORDINATOR', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID'])
function needsRejoin (err: unknown): boolean {
  return rejoinErrors.has((err as { type?: string } | undefined)?.type ?? '')
}

/** One consumer of the group: a rebalance seen by any of its batches stops them all until it joined again. */
interface Member { rejoin?: Error }

export function startKafkaToMqttFlow (s: KafkaToMqttFlowSettings): KafkaToMqttFlow {
  const options = { ...kafkaToMqttDefaults, ...s.options }
  const log = s.logger
  const abort = new AbortController()
  let buffered = 0
  let degraded: string | undefined
  const consumers: Consumer[] = []
  const publishers: MqttPublisher[] = []
  const views: Array<{ assigned: Array<{ topic: string, partition: number }> }> = []
  const joinResolvers: Array<() => void> = []
  const joins: Array<Promise<void>> = []
  const publisherOf: CallbackPublisher[] = []
  let admin: Admin | undefined
  let lagTimer: NodeJS.Timeout | undefined
  /** Partitions of topics new to the group and the offset each starts at (see startPositions). */
  let startAt = new Map<string, bigint>()

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

  function sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (abort.signal.aborted) return resolve()
      const timer = setTimeout(done, ms)
      function done (): void { clearTimeout(timer); abort.signal.removeEventListener('abort', done); resolve() }
      abort.signal.addEventListener('abort', done)
    })
  }

  const ctx: KafkaToMqttContext = { now: 0, instanceId: s.instanceId, dataflow: s.name, destinationTopic: s.destinationTopic, qos: s.qos, retain: s.retain }

  /**
   * Translates (now, so expiry counts the wait) and publishes one record; `done` gets the error that should stop the
   * partition, or nothing (published, or dropped for good). Never throws.
   */
  function send (publisher: CallbackPublisher, topic: string, m: KafkajsMessage, receivedAt: number, done: (err?: Outcome['error']) => void): void {
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
  function publishFrom (publisher: CallbackPublisher, window: PublishWindow, topic: string, messages: KafkajsMessage[], start: number, receivedAt: number, stopped: () => boolean): Promise<{ done: number, error?: Outcome['error'] }> {
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

  async function runInstance (instance: number): Promise<void> {
    const publisher = publisherOf[instance] ??= withCallbacks(await s.openPublisher(instance))
    if (!publishers.includes(publisher)) publishers.push(publisher)
    const window = publishWindow(publisher.maxInflight)
    const view = views[instance]!
    const member: Member = {}
    const consumer = s.kafka.consumer({
      groupId: s.groupId,
      allowAutoTopicCreation: false,
      partitionAssigners: consumerAssigners,
      metadataMaxAge: options.metadataMaxAgeMs,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs
    })
    consumers.push(consumer)
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assignment = e.payload.memberAssignment as Record<string, number[]>
      view.assigned = Object.entries(assignment).flatMap(([topic, parts]) => parts.map((partition) => ({ topic, partition })))
      member.rejoin = undefined
      log.debug({ instance, assigned: view.assigned }, 'partitions assigned')
      joinResolvers[instance]!()
    })
    consumer.on(consumer.events.CRASH, (e) => {
      const err = toKafkaEndpointError(e.payload.error)
      setDegraded(err.code, err.message)
    })

    await consumer.connect()
    // From the beginning: a partition without a committed offset is one added later or whose offset expired; a topic
    // new to the group starts at the end through startAt (resolved in eachBatch).
    await consumer.subscribe({ topics: s.topics, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        if (batch.messages.length === 0) return
        // A sibling batch saw the group rebalancing: rejoin before taking anything more.
        if (member.rejoin) throw member.rejoin
        const skip = await skipBeforeStart(batch.topic, batch.partition, batch.messages, resolveOffset, commitOffsetsIfNecessary)
        if (skip === batch.messages.length) return
        const messages = skip > 0 ? batch.messages.slice(skip) : batch.messages
        const receivedAt = Date.now()
        for (const m of messages) s.observer.received(m.value?.byteLength ?? 0)
        buffered += messages.length
        const stopped = (): boolean => member.rejoin !== undefined || abort.signal.aborted || !isRunning() || isStale()
        // Heartbeats while the batch is in hand (kafkajs sends one only when the interval passed): a rebalance is
        // noticed within an interval, and a member waiting for MQTT is never evicted for silence.
        const beat = (): void => {
          heartbeat().catch((err: unknown) => {
            if (needsRejoin(err)) member.rejoin ??= err as Error
            else log.debug({ instance, err: (err as Error).message }, 'heartbeat failed')
          })
        }
        const keeper = setInterval(beat, Math.max(100, Math.floor(options.heartbeatIntervalMs / 2)))
        let i = 0
        let attempt = 0
        try {
          while (i < messages.length && !stopped()) {
            const { done, error } = await publishFrom(publisher, window, batch.topic, messages, i, receivedAt, stopped)
            if (done > 0) {
              i += done
              buffered -= done
              const last = messages[i - 1]!.offset
              resolveOffset(last)
              // Kafka's committed offset is the next one to read; committed only for what MQTT acknowledged.
              try {
                await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }] })
              } catch (err) {
                if (!needsRejoin(err)) throw err
                // The generation is over: the next owner starts from the last commit that got through (duplicates, no gap).
                member.rejoin ??= err as Error
                log.debug({ instance, err: (err as Error).message }, 'commit refused: rejoining')
              }
              if (s.onPublished) for (let k = i - done; k < i; k++) s.onPublished(instance, batch.topic, batch.partition, messages[k]!.offset)
            }
            if (error) {
              setDegraded(error.code ?? 'FG_ERR_MQTT_UNAVAILABLE', error.message)
              await waitUnless(backoffDelay(attempt++, options.retryMinMs, options.retryMaxMs), stopped)
            } else {
              attempt = 0
              setReady()
            }
          }
        } finally {
          clearInterval(keeper)
          const left = messages.length - i
          if (left > 0) {
            buffered -= left
            // Not committed: Kafka still has them and the partition's next reader (this member or another) reads them again.
            for (let k = 0; k < left; k++) s.observer.dropped('uncommitted')
          }
        }
        if (i < messages.length && member.rejoin) {
          log.info({ instance, topic: batch.topic, partition: batch.partition, committed: i, left: messages.length - i, err: member.rejoin.message }, 'group rebalancing: acknowledged prefix committed, rejoining')
          throw member.rejoin
        }
        const lag = Number(batch.offsetLag())
        if (Number.isFinite(lag)) s.observer.lag?.(batch.topic, batch.partition, lag)
      }
    })
  }

  async function connectedAdmin (): Promise<Admin> {
    admin ??= s.kafka.admin()
    await admin.connect()
    return admin
  }

  /**
   * The start of each partition of a topic the group never committed on: its end offset now. Empty when
   * `fromBeginning` asks every new topic to be read from its beginning.
   */
  async function startPositions (): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>()
    if (options.fromBeginning) return out
    const a = await connectedAdmin()
    for (const { topic, partitions } of await a.fetchOffsets({ groupId: s.groupId, topics: s.topics })) {
      if (partitions.some((p) => p.offset !== '-1')) continue
      for (const e of await a.fetchTopicOffsets(topic)) out.set(`${topic}:${e.partition}`, BigInt(e.high))
    }
    return out
  }

  /**
   * For a partition of a topic new to the group: if nothing is committed for it yet (kafkajs then started it at its
   * beginning), commits its start position and returns how many records of the batch lie before it. Once per
   * partition; 0 for every other.
   */
  async function skipBeforeStart (topic: string, partition: number, messages: KafkajsMessage[], resolveOffset: (offset: string) => void, commit: (offsets: { topics: Array<{ topic: string, partitions: Array<{ partition: number, offset: string }> }> }) => Promise<void>): Promise<number> {
    const key = `${topic}:${partition}`
    const start = startAt.get(key)
    if (start === undefined) return 0
    const a = await connectedAdmin()
    const committed = (await a.fetchOffsets({ groupId: s.groupId, topics: [topic] }))[0]?.partitions.find((p) => p.partition === partition)?.offset ?? '-1'
    if (committed !== '-1' || start === 0n) {
      startAt.delete(key)
      return 0
    }
    let skip = 0
    while (skip < messages.length && BigInt(messages[skip]!.offset) < start) skip++
    if (skip === messages.length) resolveOffset((start - 1n).toString())
    await commit({ topics: [{ topic, partitions: [{ partition, offset: start.toString() }] }] })
    startAt.delete(key)
    log.debug({ topic, partition, start: start.toString(), skipped: skip }, 'a topic new to the group: partition starts at its end offset of the flow\'s start')
    return skip
  }

  async function readLag (): Promise<void> {
    if (!s.observer.lag) return
    const admin = await connectedAdmin()
    const committed = await admin.fetchOffsets({ groupId: s.groupId, topics: s.topics })
    for (const { topic, partitions } of committed) {
      const ends = await admin.fetchTopicOffsets(topic)
      for (const p of partitions) {
        const end = ends.find((e) => e.partition === p.partition)
        if (!end || p.offset === '-1') continue
        s.observer.lag(topic, p.partition, Math.max(0, Number(end.high) - Number(p.offset)))
      }
    }
  }

  for (let i = 0; i < s.instances; i++) {
    views.push({ assigned: [] })
    joins.push(new Promise<void>((resolve) => { joinResolvers.push(resolve) }))
  }
  const joinedAll = Promise.all(joins).then(() => {})

  // Starting happens in the background: an unreachable Kafka is a degraded dataflow that keeps trying, not a failure.
  const starting = (async () => {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      try {
        startAt = await startPositions()
        await Promise.all(views.map((_, i) => runInstance(i)))
        return
      } catch (err) {
        const e = toKafkaEndpointError(err)
        setDegraded(e.code, e.message)
        for (const c of consumers.splice(0)) await c.disconnect().catch(() => {})
        await sleep(backoffDelay(attempt, options.retryMinMs, options.retryMaxMs))
      }
    }
  })()

  lagTimer = setInterval(() => {
    readLag().catch((err: Error) => log.debug({ err: err.message }, 'consumer lag not read'))
  }, options.lagIntervalMs)
  lagTimer.unref()

  return {
    get buffered () { return buffered },
    joined: joinedAll,
    instances: views,
    async close () {
      abort.abort()
      if (lagTimer) clearInterval(lagTimer)
      await starting
      await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch((err: Error) => log.debug({ err: err.message }, 'consumer disconnect'))))
      await Promise.all(publishers.splice(0).map((p) => p.close().catch(() => {})))
      await admin?.disconnect().catch(() => {})
    }
  }
}
