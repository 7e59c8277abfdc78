import { createRequire } from 'node:module'
import { LevelPersistence } from './persistence-level.js'
import { createRedisPersistence } from './persistence-redis.js'

// A CommonJS module whose `module.exports` is the factory, while its types declare an ES default export: required
// as what it is rather than through an interop shim.
const memoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => unknown

interface SessionClient { id: string }
interface StoredSubscription { topic: string, qos: number }

/** The part of aedes' persistence this module wraps; aedes 2 calls these promise-style. */
export interface SubscriptionStore {
  addSubscriptions: (client: SessionClient, subs: StoredSubscription[]) => Promise<unknown>
  removeSubscriptions: (client: SessionClient, topics: string[]) => Promise<unknown>
  cleanSubscriptions: (client: SessionClient) => Promise<unknown>
  subscriptionsByTopic: (topic: string) => Promise<unknown[]>
}

export interface SessionPersistence {
  /** What aedes gets as its `persistence` option. */
  readonly persistence: unknown
  /** QoS 1/2 subscriptions held by persistent sessions: what an offline session would be queued messages for. */
  readonly persistentSubscriptions: () => number
  /** Writes what is pending and closes the store (after the broker closed). */
  readonly close: () => Promise<void>
}

/**
 * Where the broker keeps persistent sessions (subscriptions, queued and in-flight QoS 1/2 messages, QoS 2
 * receipts), Wills and retained messages: in memory (lost on restart), durably in a directory (LevelDB,
 * persistence-level.ts; one process per directory), or in Redis (`redis://[:password@]host:port[/db]`,
 * aedes-persistence-redis, persistence-redis.ts), which several ingress processes can share.
 */
export type BrokerPersistence = { kind: 'memory' } | { kind: 'dir', dir: string } | { kind: 'redis', url: string }

// Read only by aedes (it iterates the list); frozen so that a future change that writes to it fails loudly.
const noSubscriptions: Promise<unknown[]> = Promise.resolve(Object.freeze([]) as unknown as unknown[])

/**
 * aedes' in-memory persistence with one short cut. For every QoS 1/2 publish aedes asks the persistence which
 * persistent sessions' subscriptions match, to queue the message for them while they are offline: a walk of a
 * qlobber trie, 5.3 % of the gateway's CPU-profile samples at 40k publishes/s paced, even when no session holds
 * such a subscription — the usual case for telemetry ingest (clean sessions' subscriptions never reach the
 * persistence). This keeps its own count of those subscriptions, mirroring the memory persistence's rules (only
 * QoS > 0 enters its trie; a re-subscription at QoS 0 leaves it), and answers "none" without the walk at zero.
 * The count changes when each call is made: the memory persistence changes its trie synchronously too, and so does
 * the durable one, which also gives the subscriptions it loaded at setup. The Redis one loads its trie from Redis at
 * setup and gives those too; a subscription another ingress process stores later reaches neither its trie nor this
 * count (that takes a shared emitter: persistence-redis.ts).
 */
export function createSessionPersistence (store: BrokerPersistence = { kind: 'memory' }, opts: { countLocally?: boolean } = {}): SessionPersistence {
  const durable = store.kind === 'dir'
    ? new LevelPersistence(store.dir)
    : store.kind === 'redis' ? createRedisPersistence(store.url) : undefined
  const persistence = (durable ?? memoryPersistence()) as SubscriptionStore & { setup: (broker: unknown) => Promise<void> }
  // Topics each persistent session holds at QoS > 0; `count` is the sum of their sizes, kept for the publish path.
  const byClient = new Map<string, Set<string>>()
  let count = 0

  const add = persistence.addSubscriptions.bind(persistence)
  const remove = persistence.removeSubscriptions.bind(persistence)
  const clean = persistence.cleanSubscriptions.bind(persistence)
  const match = persistence.subscriptionsByTopic.bind(persistence)

  function forget (clientId: string, topic: string): void {
    const held = byClient.get(clientId)
    if (held?.delete(topic) === true) {
      count--
      if (held.size === 0) byClient.delete(clientId)
    }
  }

  persistence.addSubscriptions = (client, subs) => {
    for (const { topic, qos } of subs) {
      if (qos > 0) {
        let held = byClient.get(client.id)
        if (held === undefined) { held = new Set(); byClient.set(client.id, held) }
        if (!held.has(topic)) { held.add(topic); count++ }
      } else {
        forget(client.id, topic)
      }
    }
    return add(client, subs)
  }
  persistence.removeSubscriptions = (client, topics) => {
    for (const topic of topics) forget(client.id, topic)
    return remove(client, topics)
  }
  persistence.cleanSubscriptions = (client) => {
    count -= byClient.get(client.id)?.size ?? 0
    byClient.delete(client.id)
    return clean(client)
  }
  // The short cut holds only while every subscription is made through this process (no shared emitter).
  const countLocally = opts.countLocally !== false
  persistence.subscriptionsByTopic = (topic) => countLocally && count === 0 ? noSubscriptions : match(topic)
  let closed: Promise<void> | undefined
  if (durable !== undefined) {
    const setup = durable.setup.bind(durable)
    // aedes requires an async function here.
    persistence.setup = async (broker) => {
      await setup(broker as { id: string })
      byClient.clear()
      count = 0
      for (const [clientId, subs] of durable.storedSubscriptions()) {
        const held = new Set(subs.filter((s) => s.qos > 0).map((s) => s.topic))
        if (held.size > 0) { byClient.set(clientId, held); count += held.size }
      }
    }
  }

  return { persistence, persistentSubscriptions: () => count, close: () => (closed ??= durable?.destroy() ?? Promise.resolve()) }
}
