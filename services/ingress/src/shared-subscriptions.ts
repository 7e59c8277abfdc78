import { compileTopicFilter } from '@flowgate/mqtt'
import type { Aedes, Client, ConnectPacket, PublishPacket, SharedSubscriptionsHandler, Subscription } from 'aedes'
import { Counter, type Registry } from 'prom-client'
import { topicFilterProblem } from '@flowgate/mqtt'

/**
 * MQTT 5 Shared Subscriptions (§4.8.2) for the embedded broker, through the patched aedes `sharedSubscriptions`
 * option (patches/aedes@2.0.0-beta.1.patch): `$share/{group}/{filter}` makes the client a member of `group`; each
 * message matching `filter` goes to ONE connected member, round-robin. This is what lets several egress instances
 * split a dataflow's messages between them.
 *
 * QoS: granted at most 1. A QoS 1 delivery stays "in flight" until the member's PUBACK; if the member leaves first
 * (disconnects, unsubscribes) the message goes to another member — at-least-once, as the spec recommends
 * (§4.8.2: "SHOULD send the Application Message to another Client"). Shared deliveries are not stored in the
 * member's session, so a member that comes back does not get it a second time.
 *
 * An egress says so in its CONNECT (user property `flowgate-role: egress`, see `EGRESS_ROLE`): its plain
 * subscriptions are then taken as a group of its own (`$share/flowgate-direct.<client id>/<filter>`, only that
 * client may join), so that a device's PUBACK waits for an egress however it subscribed, also while it is away.
 * What an egress publishes (Kafka → MQTT) never enters a group an egress is in: overlapping dataflows (`#` → Kafka
 * `t`, Kafka `t` → MQTT `t/out`) would otherwise amplify each message forever.
 *
 * While a group has no connected member, messages wait in the group: bounded in count (per group), in bytes (per
 * group and across groups), for `groupExpiryMs` after the last member left (then the group and its queue go); QoS 0
 * is not kept. A message waiting in a group has its Message Expiry Interval reduced by the time it waited
 * (§3.3.2.3.3) and is not delivered once it expired. Every drop is counted (`flowgate_share_group_dropped_total`).
 * Groups live in this process's memory (the ingress is one process).
 */
export interface SharedSubscriptionOptions {
  /** Messages a group holds while no member is connected; past it the oldest is dropped (and counted). */
  maxQueued: number
  /** Bytes (payload, topic and a fixed per-message overhead) one group holds while waiting for members. */
  maxGroupQueuedBytes: number
  /** The same across all groups together; past it the oldest of the group that grows is dropped. */
  maxQueuedBytes: number
  /** Groups the broker keeps; a SUBSCRIBE that would make one more is refused (0x97 Quota exceeded). */
  maxGroups: number
  /** A group without members for this long is removed, with what waited in it (dropped, counted). */
  groupExpiryMs: number
  /**
   * After the broker starts (split deployment, PUBACKs after delivery): for this long every QoS 1 publish waits for
   * egress subscriptions to come back — a group made meanwhile gets what matched it — and is acknowledged only after
   * the period, once every group that took it acknowledged. 0: no grace period.
   */
  egressGraceMs: number
}

// A group is made by any client allowed to subscribe to its filter: without bounds, a client looping over group
// names would hold a copy of every matching message per group, forever.
export const sharedSubscriptionDefaults: SharedSubscriptionOptions = {
  maxQueued: 100_000,
  maxGroupQueuedBytes: 64 * 1024 * 1024,
  maxQueuedBytes: 256 * 1024 * 1024,
  maxGroups: 1000,
  // An egress' session expiry (mqtt-network-source.ts' default): a group is what an egress left behind.
  groupExpiryMs: 3600_000,
  // None for the library; `flowgate ingress` sets 15 s (longer than an egress' longest reconnect backoff, 10 s).
  egressGraceMs: 0
}

/** The CONNECT user property an egress sends (`flowgate-role: egress`): its plain subscriptions hold PUBACKs too. */
export const EGRESS_ROLE = { name: 'flowgate-role', value: 'egress' } as const
/** Share name of an egress' plain subscriptions: `flowgate-direct.<client id>` (`/`, `+`, `#` replaced). */
export const DIRECT_GROUP_PREFIX = 'flowgate-direct.'

const SHARE_PREFIX = '$share/'
const TOPIC_FILTER_INVALID = 0x8f
const UNSPECIFIED_ERROR = 0x80
const NOT_AUTHORIZED = 0x87
const QUOTA_EXCEEDED = 0x97
/** Memory a waiting message costs besides its payload and topic (the packet object, its properties, the entry). */
const PER_MESSAGE_OVERHEAD = 400

export type DropReason = 'queue-full' | 'queue-bytes' | 'group-expired' | 'message-expired'

/** aedes' persistence as far as shared deliveries use it (its types do not expose it on the broker). */
interface SessionStore {
  outgoingEnqueue: (sub: { clientId: string }, packet: unknown) => Promise<void>
  outgoingClearMessageId: (client: Client, packet: { messageId: number }) => Promise<unknown>
}
const sessionsOf = (broker: Aedes): SessionStore => (broker as unknown as { persistence: SessionStore }).persistence

/** A message on its way through a group: when the broker got it (for Message Expiry) and what it costs. */
interface Entry { packet: PublishPacket, at: number, bytes: number }

interface Member {
  client: Client
  qos: 0 | 1
  /** QoS 1 messages written to this member and not yet acknowledged, by packet identifier. */
  inflight: Map<number, Entry>
}

interface Group {
  key: string
  name: string
  filter: string
  /** The filter compiled once: every publish is matched against every group. */
  matches: (topic: string) => boolean
  members: Member[]
  /** Round-robin cursor into `members`. */
  next: number
  /** An egress has been a member (or it is an egress' own group): what an egress publishes does not enter it. */
  egress: boolean
  queued: Entry[]
  queuedBytes: number
  /** Removes the group once it has been without members for `groupExpiryMs`. */
  expiry: NodeJS.Timeout | undefined
  listener: (packet: PublishPacket, cb: () => void) => void
}

export interface DeliveryOutcome { reasonCode?: number, reasonString?: string, unacknowledged?: true }

export interface SharedSubscriptions {
  readonly handler: SharedSubscriptionsHandler
  /** Attaches the PUBACK observer; call once the broker exists. */
  attach: (broker: Aedes) => void
  /**
   * Sees every CONNECT (the broker's `preConnect`): a client with the egress role has its plain SUBSCRIBE and
   * UNSUBSCRIBE filters taken as its own group's.
   */
  connecting: (client: Client, packet: ConnectPacket) => void
  /** Members per group (`group/filter` → client ids), for tests and metrics. */
  groups: () => Record<string, string[]>
  /** Messages dropped from groups (full, expired), total. */
  readonly dropped: number
  /** Bytes waiting in groups without members. */
  readonly queuedBytes: number
  /** SUBSCRIBEs refused because the broker holds its maximum of groups. */
  readonly refusedGroups: number
  /**
   * For a QoS 1 publish about to enter the broker: a promise that settles when every shared group it matches has had
   * it acknowledged by a member (with the worst reason code a member gave), or undefined when no group matches (and
   * the grace period after start is over). A message a group dropped is 0x97 to an MQTT 5 device and
   * `unacknowledged` to a 3.1.1 one (for which any PUBACK means success). A publish of an egress (`clientId`) is
   * not counted for groups an egress is in: it never reaches them (topic loops). The split deployment's ingress holds the
   * device's PUBACK on it, so a PUBACK still means "an egress has it".
   */
  awaitDelivery: (packet: PublishPacket, protocolVersion: number, clientId?: string) => Promise<DeliveryOutcome> | undefined
  /** Stops the timers (grace period, group expiry). */
  close: () => void
}

interface Waiter {
  remaining: number
  outcome: DeliveryOutcome & { dropped?: true }
  protocolVersion: number
  resolve: (outcome: DeliveryOutcome) => void
}

/** `$share/{ShareName}/{filter}` → its parts, or undefined when malformed (§4.8.2: no wildcards in ShareName, a filter after it). */
export function parseSharedTopic (topic: string): { group: string, filter: string } | undefined {
  if (!topic.startsWith(SHARE_PREFIX)) return undefined
  const rest = topic.slice(SHARE_PREFIX.length)
  const slash = rest.indexOf('/')
  if (slash <= 0) return undefined
  const group = rest.slice(0, slash)
  const filter = rest.slice(slash + 1)
  if (/[+#]/.test(group) || filter === '' || topicFilterProblem(filter) !== undefined) return undefined
  return { group, filter }
}

/** The group an egress' plain subscriptions make: its own, named after its client id. */
export function directGroupOf (clientId: string): string {
  return DIRECT_GROUP_PREFIX + clientId.replace(/[/+#]/g, '_')
}

function isEgressConnect (packet: ConnectPacket): boolean {
  const value = (packet.properties?.userProperties as Record<string, string | string[]> | undefined)?.[EGRESS_ROLE.name]
  return Array.isArray(value) ? value.includes(EGRESS_ROLE.value) : value === EGRESS_ROLE.value
}

export function createSharedSubscriptions (opts: Partial<SharedSubscriptionOptions> = {}, metrics: { registry?: Registry } = {}): SharedSubscriptions {
  const options = { ...sharedSubscriptionDefaults, ...opts }
  const groups = new Map<string, Group>()
  let dropped = 0
  let queuedBytes = 0
  let refusedGroups = 0
  let broker: Aedes | undefined
  const droppedCounter = new Counter({
    name: 'flowgate_share_group_dropped_total',
    help: 'Messages a $share group (or an egress\' own group) dropped, by group and reason: queue-full / queue-bytes (no member, queue at its bound: oldest dropped), group-expired (no member for the group expiry), message-expired (Message Expiry Interval passed while waiting)',
    labelNames: ['group', 'reason'],
    registers: metrics.registry === undefined ? [] : [metrics.registry]
  })
  // Client ids connected with the egress role (aedes stamps a client's publishes with its id).
  const egressClients = new Map<string, Client>()
  const isEgress = (p: PublishPacket): boolean => egressClients.size > 0 && egressClients.has((p as PublishPacket & { clientId?: string }).clientId ?? '')
  const costOf = (p: PublishPacket): number => ((p.payload as Buffer).length ?? 0) + p.topic.length + PER_MESSAGE_OVERHEAD

  // The grace period after start: publishes (with their waiters) a group made meanwhile must still get.
  let grace: Array<{ packet: PublishPacket, at: number, waiter: Waiter, groups: Set<Group> }> | undefined = options.egressGraceMs > 0 ? [] : undefined
  const graceTimer = grace === undefined
    ? undefined
    : setTimeout(() => {
      const ended = grace ?? []
      grace = undefined
      for (const g of ended) release(g.waiter)
    }, options.egressGraceMs)
  graceTimer?.unref()

  function nextMember (group: Group): Member | undefined {
    for (let i = 0; i < group.members.length; i++) {
      const member = group.members[group.next++ % group.members.length]!
      // A member still connecting (its session being restored) is not written to: aedes empties the session's queue
      // then, and a delivery stored meanwhile would go out twice. What arrives waits for the `connected` flush.
      if (!member.client.closed && member.client.connected) return member
    }
    return undefined
  }

  // Publishes whose device waits for a member's acknowledgement, by payload buffer (aedes copies the packet but keeps
  // its payload object, so the buffer identifies the message from the device's publish to the member's PUBACK).
  const waiters = new WeakMap<object, Waiter>()
  function release (w: Waiter): void {
    if (--w.remaining > 0) return
    const o = w.outcome
    // A 3.1.1 PUBACK has no reason code: any PUBACK says "delivered". A dropped message is left unacknowledged
    // instead (the device is disconnected and sends it again), as the all-in-one does.
    if (o.dropped === true && w.protocolVersion !== 5) return w.resolve({ unacknowledged: true, ...(o.reasonString !== undefined ? { reasonString: o.reasonString } : {}) })
    const { dropped: _dropped, ...outcome } = o
    w.resolve(outcome)
  }
  function settle (packet: PublishPacket, reasonCode?: number, reasonString?: string, drop = false): void {
    const w = waiters.get(packet.payload as object)
    if (w === undefined) return
    if (reasonCode !== undefined && reasonCode >= 0x80 && w.outcome.reasonCode === undefined) {
      w.outcome = { reasonCode, ...(reasonString !== undefined ? { reasonString } : {}), ...(drop ? { dropped: true as const } : {}) }
    }
    if (w.remaining === 1) waiters.delete(packet.payload as object)
    release(w)
  }
  function drop (group: Group, entry: Entry, reason: DropReason): void {
    dropped++
    droppedCounter.inc({ group: group.name, reason })
    const why = reason === 'message-expired'
      ? `the message expired while shared subscription group ${group.name} had no member`
      : reason === 'group-expired'
        ? `shared subscription group ${group.name} had no member for ${Math.round(options.groupExpiryMs / 1000)} s and was removed`
        : `shared subscription group ${group.name} has no member and its queue is full`
    settle(entry.packet, reason === 'message-expired' ? UNSPECIFIED_ERROR : QUOTA_EXCEEDED, why, reason !== 'message-expired')
  }

  function enqueue (group: Group, entry: Entry): void {
    group.queued.push(entry)
    group.queuedBytes += entry.bytes
    queuedBytes += entry.bytes
    while (group.queued.length > 0) {
      const reason: DropReason | undefined = group.queued.length > options.maxQueued
        ? 'queue-full'
        : group.queuedBytes > options.maxGroupQueuedBytes || queuedBytes > options.maxQueuedBytes ? 'queue-bytes' : undefined
      if (reason === undefined) break
      const lost = group.queued.shift()!
      group.queuedBytes -= lost.bytes
      queuedBytes -= lost.bytes
      drop(group, lost, reason)
    }
  }

  function deliver (group: Group, entry: Entry): void {
    const { packet } = entry
    // §3.3.2.3.3: the interval the member gets is what is left of it; an expired message is not delivered.
    let properties = packet.properties
    const expiry = properties?.messageExpiryInterval
    if (expiry !== undefined) {
      const waited = Math.floor((Date.now() - entry.at) / 1000)
      if (waited >= expiry) return drop(group, entry, 'message-expired')
      if (waited > 0) properties = { ...properties, messageExpiryInterval: expiry - waited }
    }
    // Behind older messages still waiting (a member just joined, they leave on the next turn): in order.
    const member = group.queued.length > 0 ? undefined : nextMember(group)
    if (member === undefined) {
      if (packet.qos !== 0) enqueue(group, entry)
      return
    }
    const qos = Math.min(packet.qos, member.qos) as 0 | 1
    // A member that asked for QoS 0 never acknowledges: its delivery is all the device can be promised.
    if (qos === 0) setImmediate(() => settle(packet))
    // A fresh broker counter: aedes' per-client dedupe (by counter) would drop a redelivered, older message, and the
    // session store finds the delivery by it.
    const b = broker as Aedes & { counter: number, id: string }
    const out = { ...packet, ...(properties !== undefined ? { properties } : {}), qos, dup: false, brokerId: b.id, brokerCounter: ++b.counter } as PublishPacket
    const internal = member.client as unknown as Client & { _nextId: number, deliverQoS: (p: unknown, cb: () => void) => void, deliver0: (p: unknown, cb: () => void) => void }
    if (qos === 0) return internal.deliver0(out, noop)
    // The client's own packet-identifier allocator, so shared and ordinary deliveries never collide.
    out.messageId = internal._nextId
    internal._nextId = internal._nextId >= 65535 ? 1 : internal._nextId + 1
    member.inflight.set(out.messageId, entry)
    if (member.client.clean) return internal.deliverQoS(out, noop)
    // A persistent session keeps its in-flight messages (aedes updates them as it writes); `leave` takes them back.
    sessionsOf(b).outgoingEnqueue({ clientId: member.client.id }, out)
      .then(() => internal.deliverQoS(out, noop), () => internal.deliverQoS(out, noop))
  }

  function expire (group: Group): void {
    group.expiry = undefined
    if (group.members.length > 0) return
    groups.delete(group.key)
    broker?.unsubscribe(group.filter, group.listener as never, noop)
    const lost = group.queued.splice(0)
    queuedBytes -= group.queuedBytes
    group.queuedBytes = 0
    for (const entry of lost) drop(group, entry, 'group-expired')
  }

  function groupFor (name: string, filter: string): Group {
    const key = `${name}/${filter}`
    let group = groups.get(key)
    if (group !== undefined) return group
    const g: Group = {
      key,
      name,
      filter,
      matches: compileTopicFilter(filter),
      members: [],
      next: 0,
      egress: name.startsWith(DIRECT_GROUP_PREFIX),
      queued: [],
      queuedBytes: 0,
      expiry: undefined,
      listener (packet, cb) {
        // §4.7.2: a filter starting with a wildcard does not match topics beginning with `$`. A message an egress
        // published (Kafka → MQTT) does not go back to an egress: a topic loop would amplify it forever.
        if (!(packet.topic.startsWith('$') && /^[+#]/.test(filter)) && !(g.egress && isEgress(packet))) deliver(g, { packet, at: Date.now(), bytes: costOf(packet) })
        cb()
      }
    }
    groups.set(key, g)
    broker!.subscribe(filter, g.listener as never, noop)
    // In the grace period after start: what arrived before this group (an egress coming back) and matches it.
    if (grace !== undefined) {
      for (const held of grace) {
        if (!g.matches(held.packet.topic) || held.groups.has(g) || (held.packet.topic.startsWith('$') && /^[+#]/.test(filter))) continue
        held.groups.add(g)
        held.waiter.remaining++
        g.queued.push({ packet: held.packet, at: held.at, bytes: costOf(held.packet) })
      }
      for (const e of g.queued) { g.queuedBytes += e.bytes; queuedBytes += e.bytes }
    }
    group = g
    return group
  }

  function leave (client: Client, topic: string): void {
    const parsed = parseSharedTopic(topic)
    if (parsed === undefined) return
    const group = groups.get(`${parsed.group}/${parsed.filter}`)
    if (group === undefined) return
    const index = group.members.findIndex((m) => m.client === client)
    if (index < 0) return
    const [member] = group.members.splice(index, 1)
    if (group.next > index) group.next--
    // Unacknowledged deliveries go to another member, in their original order (at-least-once).
    const again = [...member!.inflight.values()]
    if (!client.clean) {
      // Taken back from the member's session, so it does not get them again when it returns.
      for (const messageId of member!.inflight.keys()) void sessionsOf(broker!).outgoingClearMessageId(client, { messageId }).catch(noop)
    }
    member!.inflight.clear()
    for (const entry of again) deliver(group, entry)
    if (group.members.length === 0 && group.expiry === undefined) {
      group.expiry = setTimeout(() => expire(group), options.groupExpiryMs)
      group.expiry.unref()
    }
  }

  const handler: SharedSubscriptionsHandler = {
    subscribe (client: Client, subscription: Subscription, callback) {
      const parsed = parseSharedTopic(subscription.topic)
      if (parsed === undefined) return callback(null, client.version === 5 ? TOPIC_FILTER_INVALID : UNSPECIFIED_ERROR)
      const direct = parsed.group.startsWith(DIRECT_GROUP_PREFIX)
      // An egress' own group is its alone.
      if (direct && parsed.group !== directGroupOf(client.id)) return callback(null, client.version === 5 ? NOT_AUTHORIZED : UNSPECIFIED_ERROR)
      if (!groups.has(`${parsed.group}/${parsed.filter}`) && groups.size >= options.maxGroups) {
        refusedGroups++
        return callback(null, client.version === 5 ? QUOTA_EXCEEDED : UNSPECIFIED_ERROR)
      }
      const group = groupFor(parsed.group, parsed.filter)
      if (egressClients.has(client.id)) group.egress = true
      if (group.expiry !== undefined) { clearTimeout(group.expiry); group.expiry = undefined }
      const qos = Math.min(subscription.qos ?? 0, 1) as 0 | 1
      const existing = group.members.find((m) => m.client === client)
      if (existing) existing.qos = qos
      else group.members.push({ client, qos, inflight: new Map() })
      callback(null, qos)
      // A member arrived: what waited for one goes out now (after the SUBACK, or once a resumed session's own queue
      // went out), in order.
      const flush = (): void => {
        if (group.queued.length === 0) return
        const waiting = group.queued.splice(0)
        queuedBytes -= group.queuedBytes
        group.queuedBytes = 0
        for (const e of waiting) deliver(group, e)
      }
      if (!client.connected) client.once('connected' as never, flush)
      else setImmediate(flush)
    },
    unsubscribe (client: Client, topic: string, callback) {
      leave(client, topic)
      callback()
    }
  }

  return {
    handler,
    attach (b) {
      broker = b
      // Gone (not taken over by a new connection with the same id): no longer an egress.
      b.on('clientDisconnect', (client) => { if (egressClients.get(client.id) === client) egressClients.delete(client.id) })
      b.on('ack', (_orig, client, ack) => {
        const id = ack?.messageId
        if (id === undefined) return
        for (const group of groups.values()) {
          for (const m of group.members) {
            if (m.client !== client) continue
            const entry = m.inflight.get(id)
            if (entry === undefined) continue
            m.inflight.delete(id)
            const puback = ack as { reasonCode?: number, properties?: { reasonString?: string } }
            settle(entry.packet, puback.reasonCode, puback.properties?.reasonString)
            return
          }
        }
      })
    },
    connecting (client, packet) {
      if (!isEgressConnect(packet)) return
      // Known by its client id once connected (an empty one is assigned later: such a client is not marked).
      if (packet.clientId !== '') egressClients.set(packet.clientId, client)
      // The client's SUBSCRIBE / UNSUBSCRIBE packets, before aedes handles them: a plain filter becomes the same filter
      // in the client's own group (aedes routes `$share/…` to this handler, stores it in the session and restores it).
      // Named when the first packet comes: the client id is not assigned yet at CONNECT.
      const own = (): string => `${SHARE_PREFIX}${directGroupOf(client.id)}/`
      const parser = (client as unknown as { _parser: { prependListener: (event: 'packet', fn: (p: { cmd: string, subscriptions?: Array<{ topic: string }>, unsubscriptions?: string[] }) => void) => void } })._parser
      parser.prependListener('packet', (p) => {
        if (p.cmd === 'subscribe') {
          for (const s of p.subscriptions ?? []) if (!s.topic.startsWith(SHARE_PREFIX)) s.topic = own() + s.topic
        } else if (p.cmd === 'unsubscribe' && p.unsubscriptions !== undefined) {
          p.unsubscriptions = p.unsubscriptions.map((f) => f.startsWith(SHARE_PREFIX) ? f : own() + f)
        }
      })
    },
    awaitDelivery (packet, protocolVersion, clientId) {
      const topic = packet.topic
      let matching = 0
      const matched = grace !== undefined ? new Set<Group>() : undefined
      const fromEgress = clientId !== undefined && egressClients.has(clientId)
      for (const g of groups.values()) {
        if (!g.matches(topic) || (topic.startsWith('$') && /^[+#]/.test(g.filter)) || (fromEgress && g.egress)) continue
        matching++
        matched?.add(g)
      }
      // An egress' own publish waits for no grace period either: no egress group takes it.
      if (matching === 0 && (grace === undefined || fromEgress)) return undefined
      return new Promise((resolve) => {
        // One more for the grace period: released when it ends.
        const waiter: Waiter = { remaining: matching + (grace !== undefined && !fromEgress ? 1 : 0), outcome: {}, protocolVersion, resolve }
        waiters.set(packet.payload as object, waiter)
        if (!fromEgress) grace?.push({ packet, at: Date.now(), waiter, groups: matched! })
      })
    },
    groups: () => Object.fromEntries([...groups.values()].map((g) => [g.key, g.members.map((m) => m.client.id)])),
    get dropped () { return dropped },
    get queuedBytes () { return queuedBytes },
    get refusedGroups () { return refusedGroups },
    close () {
      if (graceTimer !== undefined) clearTimeout(graceTimer)
      for (const g of groups.values()) if (g.expiry !== undefined) clearTimeout(g.expiry)
    }
  }
}

function noop (): void {}
