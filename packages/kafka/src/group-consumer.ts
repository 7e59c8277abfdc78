/**
 * A consumer group for a Kafka-source dataflow: `instances` kafkajs consumers in one group, each handing its
 * partitions' batches to `onBatch`, which says how far it got through `batch.commit(n)`. Everything about the group
 * lives here, so a move to another client touches this file only:
 *
 * - Commit after delivery: a partition's offset is committed only up to what `onBatch` reported delivered; records of
 *   a batch it did not report stay in Kafka and are read again (by this member or the partition's next owner). The
 *   commits leave off the delivery path, one request for all partitions marked meanwhile (offset-committer.ts).
 * - The group (issue 18, item 7): every wait stays well under the session timeout and a timer heartbeats while a
 *   batch is in hand, so a member whose destination is slow keeps its partitions. A heartbeat or commit that says the
 *   group is rebalancing (or no longer knows this member) is not swallowed: `batch.stopped()` turns true for every
 *   batch of the member, the handler finishes what is in flight and commits it, and the error is thrown to kafkajs,
 *   which rejoins — within the rebalance timeout, never delivering next to the partition's next owner.
 * - Where reading starts (item 8): only a topic the group has never committed on starts at the end — its partitions'
 *   end offsets when the group starts, committed as soon as a partition is first handed out. Every other partition
 *   without a committed offset (added to the topic later, or its offset expired) starts at its beginning: the consumer
 *   subscribes `fromBeginning`, and re-reads metadata every `metadataMaxAgeMs` so a partition added later is noticed.
 * - Assignment (item 6): subscription-assigner.ts gives each member only partitions of the topics it subscribed to.
 * - Starting happens in the background: an unreachable Kafka (or a destination that cannot open, `prepare`) is
 *   reported through `onError` and retried with backoff, never a failure of the caller.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs'
import type { Logger } from 'pino'
import { toKafkaEndpointError, type KafkaEndpointError } from './errors.js'
import { consumerAssigners } from './subscription-assigner.js'
import { createOffsetCommitter, type OffsetCommitter } from './offset-committer.js'

/** A record as the consumer hands it over (kafkajs' shape: Buffers, offsets and timestamps as decimal strings). */
export type ConsumedRecord = KafkaMessage

/** The client a group consumer runs on (see client.ts). */
export type KafkaClient = Kafka

export interface GroupBatch {
  readonly instance: number
  readonly topic: string
  readonly partition: number
  /** In offset order, never empty; records before a new topic's start position are already left out. */
  readonly records: readonly ConsumedRecord[]
  /** True once the batch must take no more records: the group is rebalancing, or the consumer stops. */
  stopped: () => boolean
  /** `records[0…count)` are delivered: the offset after the last of them is committed, in the background with the
   * member's other partitions (offset-committer.ts); a batch that stops waits for it. A refused commit because the
   * group moved on stops the batch instead of throwing (the next owner reads from the last commit). */
  commit: (count: number) => Promise<void>
}

export interface GroupConsumerOptions {
  /** Where a topic the group never committed on starts: Kafka's default, the end (only new records). */
  fromBeginning: boolean
  /** Partitions one consumer handles at the same time (each stays in order). */
  partitionsConsumedConcurrently: number
  /** How often the consumers re-read topic metadata: a partition added to a topic is read within this time. */
  metadataMaxAgeMs: number
  /** A member not heard from for this long is evicted. */
  sessionTimeoutMs: number
  /** How often a member heartbeats, also while a batch is in hand (a third of the session timeout at most). */
  heartbeatIntervalMs: number
  /** How long the group waits for every member to rejoin once a rebalance started. */
  rebalanceTimeoutMs: number
  /** How often consumer lag is read from the group's committed offsets (it shows also while the group is stuck). */
  lagIntervalMs: number
  /**
   * The most a fetch brings of one partition (Kafka still returns a first batch larger than this). Every record of
   * the batches in hand is alive at each young-generation GC: at kafkajs' 1 MiB, 4 partitions of small records kept
   * ~10 MB of objects to copy per scavenge (6–7 ms each, ~2 µs per record).
   */
  maxBytesPerPartition: number
}

export interface GroupConsumerSettings {
  kafka: KafkaClient
  groupId: string
  topics: string[]
  /** Consumers in the group, in this process. */
  instances: number
  options: GroupConsumerOptions
  logger: Logger
  /** The wait before start attempt `attempt` (0, 1, …) after a failed one: the caller's backoff policy. */
  retryDelay: (attempt: number) => number
  /** Before an instance's consumer joins (an instance's destination opens here); a throw is retried like Kafka's. */
  prepare?: (instance: number) => Promise<void>
  /** Delivers the batch, reporting progress with `batch.commit`; returns when done or once `batch.stopped()`. */
  onBatch: (batch: GroupBatch) => Promise<void>
  /** Kafka unreachable, refused, or the consumer crashed: the group keeps trying. */
  onError: (err: KafkaEndpointError) => void
  onLag?: (topic: string, partition: number, lag: number) => void
}

export interface InstanceView {
  readonly assigned: Array<{ topic: string, partition: number }>
}

export interface GroupConsumer {
  /** Resolves once every instance has joined the group and received its assignment (first time). */
  readonly joined: Promise<void>
  readonly instances: readonly InstanceView[]
  close: () => Promise<void>
}

/** Heartbeat / commit errors after which kafkajs must rejoin the group (its runner does on these, thrown from eachBatch). */
const rejoinErrors = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'NOT_COORDINATOR', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID'])
function needsRejoin (err: unknown): boolean {
  return rejoinErrors.has((err as { type?: string } | undefined)?.type ?? '')
}

/** One consumer of the group: a rebalance seen by any of its batches stops them all until it joined again. */
interface Member { rejoin?: Error }

type Commit = (offsets: { topics: Array<{ topic: string, partitions: Array<{ partition: number, offset: string }> }> }) => Promise<void>

export function startGroupConsumer (s: GroupConsumerSettings): GroupConsumer {
  const { options, logger: log } = s
  const abort = new AbortController()
  const consumers: Consumer[] = []
  const committers: OffsetCommitter[] = []
  const views: Array<{ assigned: Array<{ topic: string, partition: number }> }> = []
  const joinResolvers: Array<() => void> = []
  const joins: Array<Promise<void>> = []
  let admin: Admin | undefined
  /** Partitions of topics new to the group and the offset each starts at (see startPositions). */
  let startAt = new Map<string, bigint>()

  /** Resolves after `ms`, or at once when the consumer closes. */
  function sleep (ms: number): Promise<void> {
    return delay(ms, undefined, { signal: abort.signal }).catch(() => {})
  }

  async function connectedAdmin (): Promise<Admin> {
    admin ??= s.kafka.admin()
    await admin.connect()
    return admin
  }

  /** The start of each partition of a topic the group never committed on: its end offset now (none with fromBeginning). */
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
  async function skipBeforeStart (topic: string, partition: number, records: ConsumedRecord[], resolveOffset: (offset: string) => void, commit: Commit): Promise<number> {
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
    while (skip < records.length && BigInt(records[skip]!.offset) < start) skip++
    if (skip === records.length) resolveOffset((start - 1n).toString())
    await commit({ topics: [{ topic, partitions: [{ partition, offset: start.toString() }] }] })
    startAt.delete(key)
    log.debug({ topic, partition, start: start.toString(), skipped: skip }, 'a topic new to the group: partition starts at its end offset of the group\'s start')
    return skip
  }

  async function runInstance (instance: number): Promise<void> {
    await s.prepare?.(instance)
    const view = views[instance]!
    const member: Member = {}
    const consumer = s.kafka.consumer({
      groupId: s.groupId,
      allowAutoTopicCreation: false,
      partitionAssigners: consumerAssigners,
      metadataMaxAge: options.metadataMaxAgeMs,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      maxBytesPerPartition: options.maxBytesPerPartition
    })
    consumers.push(consumer)
    const committer: OffsetCommitter = createOffsetCommitter({
      commit: async (offsets) => { await consumer.commitOffsets(offsets) },
      // The generation is over: the next owner starts from the last commit that got through (duplicates, no gap).
      refused: needsRejoin,
      onRefused: (err) => {
        member.rejoin ??= err
        log.debug({ instance, err: err.message }, 'commit refused: rejoining')
      },
      onError: (err) => log.warn({ instance, err: err.message }, 'offset commit failed; sent again')
    })
    committers.push(committer)
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assignment = e.payload.memberAssignment as Record<string, number[]>
      view.assigned = Object.entries(assignment).flatMap(([topic, parts]) => parts.map((partition) => ({ topic, partition })))
      member.rejoin = undefined
      log.debug({ instance, assigned: view.assigned }, 'partitions assigned')
      joinResolvers[instance]!()
    })
    consumer.on(consumer.events.CRASH, (e) => s.onError(toKafkaEndpointError(e.payload.error)))

    await consumer.connect()
    // From the beginning: a partition without a committed offset is one added later or whose offset expired; a topic
    // new to the group starts at the end through startAt (resolved per batch).
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
        const records = skip > 0 ? batch.messages.slice(skip) : batch.messages
        const stopped = (): boolean => member.rejoin !== undefined || abort.signal.aborted || !isRunning() || isStale()
        let committed = 0
        const commit = async (count: number): Promise<void> => {
          if (count <= committed) return
          committed = count
          const last = records[count - 1]!.offset
          resolveOffset(last)
          // Kafka's committed offset is the next one to read. Sent in the background with the other partitions' marks.
          committer.mark(batch.topic, batch.partition, (BigInt(last) + 1n).toString())
        }
        // Heartbeats while the batch is in hand (kafkajs sends one only when the interval passed): a rebalance is
        // noticed within an interval, and a member waiting for its destination is never evicted for silence.
        const keeper = setInterval(() => {
          heartbeat().catch((err: unknown) => {
            if (needsRejoin(err)) member.rejoin ??= err as Error
            else log.debug({ instance, err: (err as Error).message }, 'heartbeat failed')
          })
        }, Math.max(100, Math.floor(options.heartbeatIntervalMs / 2)))
        try {
          await s.onBatch({ instance, topic: batch.topic, partition: batch.partition, records, stopped, commit })
          // Stopping (a rebalance, a close): what was delivered is committed while the partitions are still ours.
          if (stopped()) await committer.flush()
        } finally {
          clearInterval(keeper)
        }
        // Read again: heartbeats and commits set it while the batch was in hand.
        const rejoin = member.rejoin as Error | undefined
        if (committed < records.length && rejoin) {
          log.info({ instance, topic: batch.topic, partition: batch.partition, committed, left: records.length - committed, err: rejoin.message }, 'group rebalancing: delivered prefix committed, rejoining')
          throw rejoin
        }
        const lag = Number(batch.offsetLag())
        if (Number.isFinite(lag)) s.onLag?.(batch.topic, batch.partition, lag)
      }
    })
  }

  async function readLag (): Promise<void> {
    const onLag = s.onLag
    if (!onLag) return
    const a = await connectedAdmin()
    const committed = await a.fetchOffsets({ groupId: s.groupId, topics: s.topics })
    for (const { topic, partitions } of committed) {
      const ends = await a.fetchTopicOffsets(topic)
      for (const p of partitions) {
        const end = ends.find((e) => e.partition === p.partition)
        if (!end || p.offset === '-1') continue
        onLag(topic, p.partition, Math.max(0, Number(end.high) - Number(p.offset)))
      }
    }
  }

  // 0 is a worker of a --workers gateway whose share of instanceCount is none: it joins no group.
  for (let i = 0; i < s.instances; i++) {
    views.push({ assigned: [] })
    joins.push(new Promise<void>((resolve) => { joinResolvers.push(resolve) }))
  }

  const starting = (async () => {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      try {
        startAt = await startPositions()
        await Promise.all(views.map((_, i) => runInstance(i)))
        return
      } catch (err) {
        s.onError(toKafkaEndpointError(err))
        committers.length = 0
        for (const c of consumers.splice(0)) await c.disconnect().catch(() => {})
        await sleep(s.retryDelay(attempt))
      }
    }
  })()

  const lagTimer = setInterval(() => {
    readLag().catch((err: Error) => log.debug({ err: err.message }, 'consumer lag not read'))
  }, options.lagIntervalMs)
  lagTimer.unref()

  return {
    joined: Promise.all(joins).then(() => {}),
    instances: views,
    async close () {
      abort.abort()
      clearInterval(lagTimer)
      await starting
      // Delivered is committed before the members leave the group (a commit after that would be refused).
      await Promise.all(committers.splice(0).map(async (c) => await c.flush()))
      await Promise.all(consumers.splice(0).map((c) => c.disconnect().catch((err: Error) => log.debug({ err: err.message }, 'consumer disconnect'))))
      await admin?.disconnect().catch(() => {})
    }
  }
}
