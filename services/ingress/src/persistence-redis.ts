import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import { Redis } from 'ioredis'

interface Subscription { topic: string, qos: number, [option: string]: unknown }
interface Will { brokerId: string, clientId: string }

/** The promise-style persistence aedes 2 calls (aedes-persistence-redis' `asyncPersistence.js`), as used here. */
interface AsyncRedisPersistence {
  setup: (broker: unknown) => Promise<void>
  subscriptionsByClient: (client: { id: string }) => Promise<Subscription[]>
  createRetainedStreamCombi: (patterns: string[]) => AsyncIterable<unknown>
  createRetainedStream: (pattern: string) => AsyncIterable<unknown>
  outgoingStream: (client: { id: string }) => AsyncIterable<unknown>
  streamWill: (brokers: Record<string, number>) => AsyncIterable<Will>
  destroy: () => Promise<void>
}

// The package's main export wraps this class in aedes 1's callback API; aedes 2 calls the promise-style class
// itself (as it does aedes-persistence's). CommonJS, required as what it is.
const AsyncRedisPersistenceClass = createRequire(import.meta.url)('aedes-persistence-redis/asyncPersistence.js') as
  new (opts: { conn: Redis, maxSessionDelivery?: number }) => AsyncRedisPersistence

/** aedes' default, used when a broker does not say. */
const HEARTBEAT_MS = 60_000
const CONNECT_TIMEOUT_MS = 10_000
// Not a key aedes-persistence-redis uses (its keys: clients, client:*, outgoing:*, outgoing-id:*, incoming:*,
// packet:*, retained, will, will:*).
const aliveKey = (brokerId: string): string => `flowgate:broker-alive:${brokerId}`

export type RedisPersistence = Omit<AsyncRedisPersistence, 'createRetainedStreamCombi' | 'createRetainedStream' | 'outgoingStream' | 'streamWill'> & {
  createRetainedStreamCombi: (patterns: string[]) => Readable
  createRetainedStream: (pattern: string) => Readable
  outgoingStream: (client: { id: string }) => Readable
  streamWill: (brokers: Record<string, number>) => Readable
  /** Persistent sessions' subscriptions as stored in Redis when the broker started: client id → its subscriptions. */
  storedSubscriptions: () => Map<string, Subscription[]>
}

/**
 * The aedes ecosystem's Redis persistence (aedes-persistence-redis): persistent sessions' subscriptions, their queued
 * and in-flight QoS 1/2 messages, QoS 2 receipts, Wills and retained messages live in Redis, so that several ingress
 * processes on the same Redis share them — a session subscribed through one ingress resumes, queue included, on
 * another, and a message retained through one is served by all.
 *
 * What it adds to the package, in its own wrapper (the package is used as published):
 * - Streams: the package's promise-style class gives async generators where aedes 2.0.0-beta.1 (and
 *   aedes-persistence 10.3.1, its contract) wants Node streams — aedes pipes the retained and outgoing ones
 *   (`stream.pipe is not a function` without this) — so each is wrapped in `Readable.from`.
 * - A resumed session gets its whole queue: the package reads at most `maxSessionDelivery` (1,000) + 1 queued
 *   messages per resumption and leaves the rest in Redis until the next one; here the whole list (-1: LRANGE 0 -1).
 * - `setup` connects first, with a bounded wait: an unreachable Redis fails the start instead of queueing commands
 *   forever; and it reads the stored subscriptions (for persistence.ts' subscription count).
 * - Wills: the package tells a live broker's Wills from a dead one's by the brokers' heartbeats, which travel on the
 *   broker's message emitter — per process without mqemitter-redis. Each broker here also keeps a key in Redis while
 *   it runs, and `streamWill` leaves out Wills of brokers whose key is there: another ingress does not publish the
 *   Will of a device still connected to this one; once this one is gone (closed, or its key expired after three
 *   heartbeats), its Wills are published by the others, as the package intends.
 *
 * Not shared without a shared emitter (mqemitter-redis, issue 20's clustering): live deliveries between ingress
 * processes, subscriptions made after a process started (each keeps its own subscription trie, loaded from Redis at
 * start and told of changes through the emitter), and session take-over across processes.
 */
export function createRedisPersistence (url: string): RedisPersistence {
  const conn = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS })
  const inner = new AsyncRedisPersistenceClass({ conn, maxSessionDelivery: -1 })
  const stored = new Map<string, Subscription[]>()
  let brokerId: string | undefined
  let alive: NodeJS.Timeout | undefined
  let ready = false

  const setup = inner.setup.bind(inner)
  const destroy = inner.destroy.bind(inner)
  const streamWill = inner.streamWill.bind(inner)
  const retainedCombi = inner.createRetainedStreamCombi.bind(inner)
  const outgoing = inner.outgoingStream.bind(inner)

  async function connect (): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    // The cause ("Connection is closed" alone says little), kept while connecting; later ones ioredis prints.
    let cause: Error | undefined
    const onError = (err: Error): void => { cause = err }
    conn.on('error', onError)
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis at ${redacted(url)}: no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS)
    })
    try {
      await Promise.race([conn.connect(), timeout])
    } catch (err) {
      conn.disconnect()
      const why = cause ?? (err as Error)
      throw new Error(`broker persistence: cannot reach Redis at ${redacted(url)}: ${why.message}`, { cause: why })
    } finally {
      clearTimeout(timer)
      conn.off('error', onError)
    }
  }

  return Object.assign(inner, {
    // aedes requires an async function here.
    async setup (broker: unknown): Promise<void> {
      await connect()
      await setup(broker)
      ready = true
      const b = broker as { id: string, opts?: { heartbeatInterval?: number } }
      brokerId = b.id
      const heartbeat = b.opts?.heartbeatInterval ?? HEARTBEAT_MS
      const beat = async (): Promise<unknown> => await conn.set(aliveKey(b.id), '1', 'PX', 3 * heartbeat)
      await beat()
      alive = setInterval(() => { beat().catch(() => {}) }, heartbeat)
      alive.unref()
      stored.clear()
      for (const clientId of await conn.smembers('clients')) {
        const subs = await inner.subscriptionsByClient({ id: clientId })
        if (subs.length > 0) stored.set(clientId, subs)
      }
    },
    storedSubscriptions: () => new Map(stored),
    createRetainedStreamCombi: (patterns: string[]) => Readable.from(retainedCombi(patterns)),
    createRetainedStream: (pattern: string) => Readable.from(retainedCombi([pattern])),
    outgoingStream: (client: { id: string }) => Readable.from(outgoing(client)),
    streamWill (brokers: Record<string, number>): Readable {
      return Readable.from((async function * () {
        const checked = new Map<string, boolean>()
        for await (const will of streamWill(brokers)) {
          let live = checked.get(will.brokerId)
          if (live === undefined) {
            live = will.brokerId !== brokerId && (await conn.exists(aliveKey(will.brokerId))) === 1
            checked.set(will.brokerId, live)
          }
          if (!live) yield will
        }
      })())
    },
    async destroy (): Promise<void> {
      clearInterval(alive)
      // Not set up (the broker failed to start): only the connection to close.
      if (!ready) { conn.disconnect(); return }
      if (brokerId !== undefined && conn.status === 'ready') await conn.del(aliveKey(brokerId)).catch(() => {})
      await destroy()
    }
  })
}

/** The URL without its password, for messages. */
function redacted (url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '(unparseable URL)'
  }
}
