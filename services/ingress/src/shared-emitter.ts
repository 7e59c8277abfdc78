/**
 * The broker's message emitter shared through Redis (mqemitter-redis, aedes' own clustering backend): every publish
 * any broker on the same Redis takes is delivered to the subscribers of all of them, and aedes' `$SYS` notices
 * (new subscriptions, heartbeats, client take-overs) reach every broker, which is what keeps their Redis session
 * persistence in step. For several gateway processes sharing devices — `flowgate start --workers N`, or gateways on
 * several machines behind a TCP load balancer — never for the split deployment's ingress, whose `$share` groups are
 * per broker (a message would reach each broker's group).
 *
 * mqemitter-redis publishes every message to Redis, even one no broker subscribes to: a fleet publishing into
 * Kafka through the embedded broker pays a Redis round trip per message (~12 µs of the gateway's CPU and ~11 µs of
 * Redis', measured) for nothing. So each emitter here registers the filters it subscribes to in Redis (the
 * subscription registry below), every emitter keeps the union of all of them, and a message that matches no filter
 * anywhere skips Redis: the broker's own done comes at once, as an in-process emitter's would.
 */
import { createRequire } from 'node:module'
import { randomUUID } from 'node:crypto'
import type { AedesOptions } from 'aedes'
import { Redis } from 'ioredis'

type Done = (err?: Error) => void
type Listener = (packet: unknown, done: Done) => void
interface RedisMq {
  on: (topic: string, listener: Listener, done?: Done) => unknown
  removeListener: (topic: string, listener: Listener, done?: Done) => unknown
  emit: (packet: { topic: string }, done?: Done) => void
  close: (done: Done) => void
  state: { on: (event: 'error', listener: (err: Error) => void) => void }
  subConn: Redis
  _ignoredTopicsSet: Set<string>
}
const require = createRequire(import.meta.url)
const MQEmitterRedis = require('mqemitter-redis') as (opts: { connectionString: string }) => RedisMq
const { QlobberTrue } = require('qlobber') as { QlobberTrue: new (options: object) => { add: (topic: string) => void, remove: (topic: string) => void, test: (topic: string) => boolean } }

/** Where the registry lives in Redis (one Redis serves one gateway's brokers: `--persistence-url`). */
const PREFIX = 'flowgate:emitter:'
const CHANGED = `${PREFIX}changed`
const EMITTERS = `${PREFIX}emitters`
/** An emitter rewrites its filters this often; a process gone without a word leaves them for at most REGISTRY_TTL_S. */
const REFRESH_MS = 20_000
const REGISTRY_TTL_S = 60

export interface SharedEmitterOptions {
  /** Test hook: the registry's refresh period (default 20 s). */
  refreshMs?: number
}

export function redisEmitter (url: string, onError: (err: Error) => void, options: SharedEmitterOptions = {}): NonNullable<AedesOptions['mq']> {
  const mq = MQEmitterRedis({ connectionString: url })
  // ioredis reconnects by itself; an error here is news for the log, not a reason to stop the broker.
  mq.state.on('error', onError)
  const registry = new SubscriptionRegistry(url, mq, onError, options.refreshMs ?? REFRESH_MS)

  const selective = Object.create(mq) as RedisMq
  selective.on = (topic, listener, done) => {
    mq.on(topic, listener, () => { registry.add(topic).then(() => done?.(), (err: Error) => done?.(err)) })
    return selective
  }
  selective.removeListener = (topic, listener, done) => {
    mq.removeListener(topic, listener, () => { registry.remove(topic).then(() => done?.(), (err: Error) => done?.(err)) })
    return selective
  }
  selective.emit = (packet, done) => {
    if (registry.anyoneMatches(packet.topic)) return mq.emit(packet, done)
    done?.()
  }
  selective.close = (done) => { registry.close().finally(() => mq.close(done)) }
  return selective as unknown as NonNullable<AedesOptions['mq']>
}

/**
 * Which filters the brokers on one Redis subscribe to: each emitter's own in a Redis set of its own (expiring,
 * rewritten every refresh, so a process killed without a word drops out), every change announced on a channel, and
 * the union kept in a trie here. Until this emitter has read the whole registry (at start, after a lost Redis
 * connection), every message goes to Redis: a filter unknown here must never mean a message not delivered.
 *
 * Why a registry of our own: Redis answers which channels have subscribers (PUBSUB CHANNELS) but not which patterns
 * (PUBSUB NUMPAT is a count), and an MQTT filter with a wildcard is a pattern there.
 */
class SubscriptionRegistry {
  private readonly id = randomUUID()
  private readonly key = `${PREFIX}${this.id}`
  private readonly pub: Redis
  /** This emitter's filters, with how many of its listeners use each. */
  private readonly own = new Map<string, number>()
  /** Every emitter's filters (this one's included), as last read. */
  private readonly others = new Map<string, Set<string>>()
  private readonly counts = new Map<string, number>()
  private readonly trie = new QlobberTrue({ separator: '/', wildcard_one: '+', wildcard_some: '#' })
  private synced = false
  /** Announcements heard, and the number of each emitter's latest: a registry read never undoes a newer one. */
  private heard = 0
  private readonly lastHeard = new Map<string, number>()
  private readonly timer: NodeJS.Timeout
  private closed = false

  constructor (url: string, private readonly mq: RedisMq, private readonly onError: (err: Error) => void, refreshMs: number) {
    this.pub = new Redis(url)
    this.pub.on('error', onError)
    // mqemitter-redis would read the registry's announcements as messages: they are ours.
    mq._ignoredTopicsSet.add(CHANGED)
    mq.subConn.on('message', (channel: string, message: string) => { if (channel === CHANGED) this.announced(message) })
    mq.subConn.on('close', () => { this.synced = false })
    mq.subConn.on('ready', () => { void this.subscribeAndSync() })
    // A refresh that fails (Redis away) is reported and tried again at the next tick, never an unhandled rejection.
    this.timer = setInterval(() => { this.publishOwn().then(() => this.sync(), this.onError) }, refreshMs)
    this.timer.unref()
  }

  /** False only when no broker on this Redis subscribes to a filter matching `topic`, as far as is known here. */
  anyoneMatches (topic: string): boolean {
    return !this.synced || this.trie.test(topic)
  }

  async add (filter: string): Promise<void> {
    const n = this.own.get(filter) ?? 0
    this.own.set(filter, n + 1)
    if (n > 0) return
    this.count(filter, +1)
    // Announced before the subscriber's SUBACK (aedes waits for this): a device elsewhere that publishes after it
    // has its message sent to Redis.
    await this.publishOwn()
  }

  async remove (filter: string): Promise<void> {
    const n = this.own.get(filter) ?? 0
    if (n > 1) { this.own.set(filter, n - 1); return }
    if (n === 0) return
    this.own.delete(filter)
    this.count(filter, -1)
    await this.publishOwn()
  }

  async close (): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.pub.multi().del(this.key).srem(EMITTERS, this.id).publish(CHANGED, JSON.stringify({ id: this.id, filters: [] })).exec().catch(() => {})
    this.pub.disconnect()
  }

  private count (filter: string, delta: number): void {
    const n = (this.counts.get(filter) ?? 0) + delta
    if (n > 0) this.counts.set(filter, n)
    else this.counts.delete(filter)
    if (n === 1 && delta > 0) this.trie.add(filter)
    if (n === 0) this.trie.remove(filter)
  }

  /**
   * This emitter's filters into Redis (the whole set: it also repairs a Redis that restarted empty), and announced
   * with them: the others update their trie as the announcement arrives, with no round trip to Redis in between.
   */
  private async publishOwn (): Promise<void> {
    if (this.closed) return
    const filters = [...this.own.keys()]
    const m = this.pub.multi().del(this.key)
    if (filters.length > 0) m.sadd(this.key, ...filters)
    await m.expire(this.key, REGISTRY_TTL_S).sadd(EMITTERS, this.id).publish(CHANGED, JSON.stringify({ id: this.id, filters })).exec()
  }

  private async subscribeAndSync (): Promise<void> {
    try {
      await this.mq.subConn.subscribe(CHANGED)
      await this.publishOwn()
      await this.sync()
    } catch (err) { this.onError(err as Error) }
  }

  /** Reads every emitter's filters; from then on messages that match none skip Redis. */
  private async sync (): Promise<void> {
    if (this.closed) return
    const since = this.heard
    const newer = (id: string): boolean => (this.lastHeard.get(id) ?? 0) > since
    try {
      const ids = await this.pub.smembers(EMITTERS)
      const sets = await Promise.all(ids.map(async (id) => [id, id === this.id ? [...this.own.keys()] : await this.pub.smembers(`${PREFIX}${id}`)] as const))
      const gone = sets.filter(([id, filters]) => filters.length === 0 && id !== this.id).map(([id]) => id)
      // An emitter whose set expired is gone; one with no filter yet is removed too and comes back with its first.
      if (gone.length > 0) await this.pub.srem(EMITTERS, ...gone)
      for (const id of [...this.others.keys()]) if (!ids.includes(id) && !newer(id)) this.setFilters(id, [])
      for (const [id, filters] of sets) if (id !== this.id && !newer(id)) this.setFilters(id, filters)
      this.synced = true
    } catch (err) { this.onError(err as Error) }
  }

  private announced (message: string): void {
    try {
      const { id, filters } = JSON.parse(message) as { id: string, filters: string[] }
      if (id === this.id || !Array.isArray(filters)) return
      this.lastHeard.set(id, ++this.heard)
      this.setFilters(id, filters.map(String))
    } catch {
      // Not one of ours: someone else publishing on the channel is no reason to forget what is known.
    }
  }

  private setFilters (id: string, filters: string[]): void {
    const before = this.others.get(id) ?? new Set<string>()
    const after = new Set(filters)
    for (const f of after) if (!before.has(f)) this.count(f, +1)
    for (const f of before) if (!after.has(f)) this.count(f, -1)
    if (after.size > 0) this.others.set(id, after)
    else this.others.delete(id)
  }
}
