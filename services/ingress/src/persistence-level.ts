import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import { deserialize, serialize } from 'node:v8'
import { ClassicLevel } from 'classic-level'

// CommonJS modules without types of their own (aedes-packet's declare an ES default export they do not have).
const require = createRequire(import.meta.url)
const Packet = require('aedes-packet') as new (original: Stored) => Stored
const QlobberSub = require('qlobber/aedes/qlobber-sub') as new (options: object) => Trie
const { QlobberTrue } = require('qlobber') as { QlobberTrue: new (options: object) => { add: (topic: string) => void, test: (topic: string) => boolean } }

interface Trie {
  add: (topic: string, sub: object) => void
  remove: (topic: string, sub: object) => void
  match: (topic: string) => unknown[]
  subscriptionsCount: number
}
type Stored = Record<string, unknown> & { topic?: string, messageId?: number, brokerId?: string, brokerCounter?: number, payload?: Buffer }
interface Client { id: string, clean?: boolean }
interface Subscription { topic: string, qos: number, rh?: number, rap?: boolean, nl?: boolean, subscriptionIdentifier?: number }
interface Queued { seq: number, packet: Stored }
type Op = { type: 'put', key: string, value: Buffer } | { type: 'del', key: string }

const QLOBBER_OPTIONS = { wildcard_one: '+', wildcard_some: '#', separator: '/' }

// Keys. What a value belongs to is inside the value; a key only has to be unique and, for the queues, sort in the
// order the messages were queued: one sequence for the whole store, carried on across restarts.
const RETAINED = 'r:'
const SUBSCRIPTION = 's:'
const OUTGOING = 'o:'
const INCOMING = 'i:'
const WILL = 'w:'
const id = (clientId: string): string => encodeURIComponent(clientId)
const outgoingKey = (seq: number): string => OUTGOING + seq.toString(36).padStart(11, '0')

/** A packet as stored: aedes' objects carry callbacks and the client (a QoSPacket's writeCallback), which stay out. */
function record (packet: object): Stored {
  const out: Stored = {}
  for (const [k, v] of Object.entries(packet)) if (typeof v !== 'function' && k !== 'client') out[k] = v
  return out
}
const encode = (value: object): Buffer => serialize(value)

/**
 * A durable aedes persistence: the state lives in memory, as aedes' own memory persistence keeps it (same
 * behaviour, checked by aedes-persistence's abstract tests), and every change is written through to a LevelDB in
 * `dir`, read back only at `setup`. Nothing on the delivery path reads the disk, and only state that must outlive a
 * process is written: persistent sessions' subscriptions, queues, in-flight packets and QoS 2 receipts, Wills and
 * retained messages. A clean session touches the disk only for its Will; its QoS 2 receipts stay in memory.
 *
 * Writes are queued in the order they are made and written in batches, one at a time: the next batch is everything
 * changed while the last one was written. A later change to a key can therefore never land before an earlier one (a
 * delete before the put it undoes), and a flood of changes costs one LevelDB write per batch. Each method resolves
 * once its batch is written: in the operating system's hands, so a SIGKILL loses nothing that resolved (a power
 * failure may lose the last batches: LevelDB's log is not synced on each write).
 */
export class LevelPersistence {
  readonly #db: ClassicLevel<string, Buffer>
  #broker: { id: string } | undefined
  readonly #retained = new Map<string, Stored>()
  readonly #subscriptions = new Map<string, Map<string, Omit<Subscription, 'topic'>>>()
  readonly #trie = new QlobberSub(QLOBBER_OPTIONS)
  readonly #outgoing = new Map<string, Queued[]>()
  // QoS 2 receipts; `durable` when written (the client's session outlives its connection).
  readonly #incoming = new Map<string, Map<number, { packet: Stored, durable: boolean }>>()
  readonly #wills = new Map<string, Stored>()
  #seq = 0
  #batch: { ops: Op[], done: Promise<void>, resolve: () => void, reject: (err: Error) => void } | undefined
  #writing: Promise<void> | undefined
  #destroyed = false

  constructor (dir: string) {
    this.#db = new ClassicLevel<string, Buffer>(dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  }

  get broker (): { id: string } | undefined { return this.#broker }

  /** Opens the store and loads it. aedes checks that this is an async function. */
  async setup (broker: { id: string }): Promise<void> {
    this.#broker = broker
    if (this.#db.status === 'open') return
    await this.#db.open()
    for await (const [key, value] of this.#db.iterator()) {
      const v = deserialize(value) as Stored
      switch (key.slice(0, 2)) {
        case RETAINED: this.#retained.set(v.topic!, v); break
        case SUBSCRIPTION: {
          const { clientId, topic, ...sub } = v as unknown as Subscription & { clientId: string }
          this.#remember({ id: clientId }, [{ topic, ...sub }])
          break
        }
        case OUTGOING: {
          const seq = parseInt(key.slice(2), 36)
          const { clientId, packet } = v as { clientId: string, packet: Stored }
          queueOf(this.#outgoing, clientId).push({ seq, packet })
          this.#seq = Math.max(this.#seq, seq)
          break
        }
        case INCOMING: {
          const { clientId, packet } = v as { clientId: string, packet: Stored }
          receiptsOf(this.#incoming, clientId).set(packet.messageId!, { packet, durable: true })
          break
        }
        case WILL: this.#wills.set(v.clientId as string, v); break
      }
    }
  }

  /** Persistent sessions' subscriptions as loaded or changed since: client id → its subscriptions. */
  storedSubscriptions (): Map<string, Subscription[]> {
    const out = new Map<string, Subscription[]>()
    for (const [clientId, subs] of this.#subscriptions) out.set(clientId, [...subs].map(([topic, s]) => ({ topic, ...s })))
    return out
  }

  /** Resolves once everything changed so far is written. */
  async flush (): Promise<void> {
    while (this.#writing !== undefined) await this.#writing.catch(() => {})
  }

  #write (op: Op): Promise<void> {
    let batch = this.#batch
    if (batch === undefined) {
      let resolve!: () => void
      let reject!: (err: Error) => void
      const done = new Promise<void>((res, rej) => { resolve = res; reject = rej })
      // Nobody may wait on a batch (aedes ignores some results); its failure is reported to those that do.
      done.catch(() => {})
      batch = this.#batch = { ops: [], done, resolve, reject }
      this.#writing ??= this.#drain()
    }
    batch.ops.push(op)
    return batch.done
  }

  async #drain (): Promise<void> {
    // Started from #write: the first batch is taken after the current turn has added to it.
    await Promise.resolve()
    for (let batch = this.#batch; batch !== undefined; batch = this.#batch) {
      this.#batch = undefined
      try {
        await this.#db.batch(batch.ops)
        batch.resolve()
      } catch (err) {
        batch.reject(err as Error)
      }
    }
    this.#writing = undefined
  }

  async storeRetained (pkt: Stored): Promise<void> {
    const key = RETAINED + pkt.topic!
    if (pkt.payload!.length === 0) {
      if (!this.#retained.delete(pkt.topic!)) return
      return await this.#write({ type: 'del', key })
    }
    const packet = record(pkt)
    this.#retained.set(pkt.topic!, packet)
    await this.#write({ type: 'put', key, value: encode(packet) })
  }

  createRetainedStreamCombi (patterns: string[]): Readable {
    // Each pattern's matches in turn, in the order the Map keeps them, as the memory persistence gives them.
    const retained = [...this.#retained.values()]
    return Readable.from(patterns.flatMap((p) => {
      const one = new QlobberTrue(QLOBBER_OPTIONS)
      one.add(p)
      return retained.filter((packet) => one.test(packet.topic!))
    }))
  }

  createRetainedStream (pattern: string): Readable { return this.createRetainedStreamCombi([pattern]) }

  #remember (client: Client, subs: Subscription[]): void {
    let stored = this.#subscriptions.get(client.id)
    if (stored === undefined) { stored = new Map(); this.#subscriptions.set(client.id, stored) }
    for (const { topic, qos, rh, rap, nl, subscriptionIdentifier } of subs) {
      const before = stored.get(topic)
      const sub: Omit<Subscription, 'topic'> = { qos, rh, rap, nl }
      if (subscriptionIdentifier !== undefined) sub.subscriptionIdentifier = subscriptionIdentifier
      if (qos > 0) this.#trie.add(topic, { clientId: client.id, topic, qos, rh, rap, nl })
      else if ((before?.qos ?? 0) > 0) this.#trie.remove(topic, { clientId: client.id, topic })
      stored.set(topic, sub)
    }
  }

  async addSubscriptions (client: Client, subs: Subscription[]): Promise<void> {
    this.#remember(client, subs)
    const stored = this.#subscriptions.get(client.id)!
    let written: Promise<void> | undefined
    for (const { topic } of subs) {
      written = this.#write({ type: 'put', key: `${SUBSCRIPTION}${id(client.id)}:${topic}`, value: encode({ clientId: client.id, topic, ...stored.get(topic) }) })
    }
    await written
  }

  async removeSubscriptions (client: Client, topics: string[]): Promise<void> {
    const stored = this.#subscriptions.get(client.id)
    if (stored === undefined) return
    let written: Promise<void> | undefined
    for (const topic of topics) {
      const sub = stored.get(topic)
      if (sub === undefined) continue
      if (sub.qos > 0) this.#trie.remove(topic, { clientId: client.id, topic })
      stored.delete(topic)
      written = this.#write({ type: 'del', key: `${SUBSCRIPTION}${id(client.id)}:${topic}` })
    }
    if (stored.size === 0) this.#subscriptions.delete(client.id)
    await written
  }

  async subscriptionsByClient (client: Client): Promise<Subscription[]> {
    return [...this.#subscriptions.get(client.id) ?? []].map(([topic, s]) => ({ topic, ...s }))
  }

  async countOffline (): Promise<{ subsCount: number, clientsCount: number }> {
    return { subsCount: this.#trie.subscriptionsCount, clientsCount: this.#subscriptions.size }
  }

  async subscriptionsByTopic (topic: string): Promise<unknown[]> { return this.#trie.match(topic) }

  async cleanSubscriptions (client: Client): Promise<void> {
    const stored = this.#subscriptions.get(client.id)
    if (stored !== undefined) await this.removeSubscriptions(client, [...stored.keys()])
  }

  async outgoingEnqueue (sub: { clientId: string }, packet: Stored): Promise<void> {
    await this.#enqueue(sub.clientId, packet)
  }

  async outgoingEnqueueCombi (subs: Array<{ clientId: string }>, packet: Stored): Promise<void> {
    let written: Promise<void> | undefined
    for (const sub of subs) written = this.#enqueue(sub.clientId, packet)
    await written
  }

  #enqueue (clientId: string, original: Stored): Promise<void> {
    const packet = record(new Packet(original))
    const seq = ++this.#seq
    queueOf(this.#outgoing, clientId).push({ seq, packet })
    return this.#write({ type: 'put', key: outgoingKey(seq), value: encode({ clientId, packet }) })
  }

  /** The memory persistence's rule: the packet of the same broker and counter gets the identifier; else the
   * packet with that identifier is replaced (a PUBREL for its PUBLISH). */
  async outgoingUpdate (client: Client, packet: Stored): Promise<void> {
    const queue = this.#outgoing.get(client.id) ?? []
    for (const queued of queue) {
      if (queued.packet.brokerId === packet.brokerId) {
        if (queued.packet.brokerCounter !== packet.brokerCounter) continue
        queued.packet.messageId = packet.messageId
      } else if (queued.packet.messageId === packet.messageId) {
        queued.packet = record(packet)
      } else {
        continue
      }
      return await this.#write({ type: 'put', key: outgoingKey(queued.seq), value: encode({ clientId: client.id, packet: queued.packet }) })
    }
    throw new Error('no such packet')
  }

  async outgoingClearMessageId (client: Client, packet: { messageId?: number }): Promise<Stored | undefined> {
    const queue = this.#outgoing.get(client.id)
    if (queue === undefined) return undefined
    const i = queue.findIndex((q) => q.packet.messageId === packet.messageId)
    if (i < 0) return undefined
    const [{ seq, packet: found }] = queue.splice(i, 1) as [Queued]
    if (queue.length === 0) this.#outgoing.delete(client.id)
    await this.#write({ type: 'del', key: outgoingKey(seq) })
    return found
  }

  outgoingStream (client: Client): Readable {
    return Readable.from((this.#outgoing.get(client.id) ?? []).map((q) => q.packet))
  }

  async incomingStorePacket (client: Client, original: Stored): Promise<void> {
    const packet = record(new Packet(original))
    packet.messageId = original.messageId
    const durable = client.clean !== true
    receiptsOf(this.#incoming, client.id).set(packet.messageId!, { packet, durable })
    if (durable) await this.#write({ type: 'put', key: `${INCOMING}${id(client.id)}:${packet.messageId}`, value: encode({ clientId: client.id, packet }) })
  }

  async incomingGetPacket (client: Client, packet: Stored): Promise<Stored> {
    const found = this.#incoming.get(client.id)?.get(packet.messageId!)
    if (found === undefined) throw new Error('no such packet')
    return found.packet
  }

  async incomingDelPacket (client: Client, packet: Stored): Promise<void> {
    const receipts = this.#incoming.get(client.id)
    const found = receipts?.get(packet.messageId!)
    if (found === undefined) throw new Error('no such packet')
    receipts!.delete(packet.messageId!)
    if (receipts!.size === 0) this.#incoming.delete(client.id)
    if (found.durable) await this.#write({ type: 'del', key: `${INCOMING}${id(client.id)}:${packet.messageId}` })
  }

  async putWill (client: Client, packet: Stored): Promise<void> {
    packet.brokerId = this.#broker?.id
    packet.clientId = client.id
    this.#wills.set(client.id, packet)
    await this.#write({ type: 'put', key: WILL + id(client.id), value: encode(record(packet)) })
  }

  async getWill (client: Client): Promise<Stored | undefined> { return this.#wills.get(client.id) }

  async delWill (client: Client): Promise<Stored | undefined> {
    const will = this.#wills.get(client.id)
    if (will === undefined) return undefined
    this.#wills.delete(client.id)
    await this.#write({ type: 'del', key: WILL + id(client.id) })
    return will
  }

  streamWill (brokers: Record<string, unknown> = {}): Readable {
    return Readable.from([...this.#wills.values()].filter((w) => brokers[w.brokerId as string] === undefined))
  }

  getClientList (topic: string): Readable {
    return Readable.from([...this.#subscriptions].filter(([, subs]) => subs.has(topic)).map(([clientId]) => clientId))
  }

  /** Writes what is pending and closes the store. */
  async destroy (): Promise<void> {
    if (this.#destroyed) throw new Error('destroyed called twice!')
    this.#destroyed = true
    await this.flush()
    await this.#db.close()
  }
}

function queueOf (map: Map<string, Queued[]>, clientId: string): Queued[] {
  let queue = map.get(clientId)
  if (queue === undefined) { queue = []; map.set(clientId, queue) }
  return queue
}

function receiptsOf<V> (map: Map<string, Map<number, V>>, clientId: string): Map<number, V> {
  let receipts = map.get(clientId)
  if (receipts === undefined) { receipts = new Map(); map.set(clientId, receipts) }
  return receipts
}
