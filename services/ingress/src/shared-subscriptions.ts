import { compileTopicFilter } from '@flowgate/mqtt'
import type { Aedes, Client, PublishPacket, SharedSubscriptionsHandler, Subscription } from 'aedes'
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
 * While a group has no connected member, messages wait in the group (bounded; QoS 0 is not kept): an egress that
 * restarts finds them there. Groups live in this process's memory (the ingress is one process).
 */
export interface SharedSubscriptionOptions {
  /** Messages a group holds while no member is connected; past it the oldest is dropped (and counted). */
  maxQueued: number
  /** Payload bytes all groups together hold while waiting for members; past it the oldest of the group is dropped. */
  maxQueuedBytes: number
  /** Groups the broker keeps; a SUBSCRIBE that would make one more is refused (0x97 Quota exceeded). */
  maxGroups: number
}

// A group is made by any client allowed to subscribe to its filter: without bounds, a client looping over group
// names would hold a copy of every matching message per group, forever.
export const sharedSubscriptionDefaults: SharedSubscriptionOptions = { maxQueued: 100_000, maxQueuedBytes: 256 * 1024 * 1024, maxGroups: 1000 }

const SHARE_PREFIX = '$share/'
const TOPIC_FILTER_INVALID = 0x8f
const UNSPECIFIED_ERROR = 0x80
const QUOTA_EXCEEDED = 0x97

/** aedes' persistence as far as shared deliveries use it (its types do not expose it on the broker). */
interface SessionStore {
  outgoingEnqueue: (sub: { clientId: string }, packet: unknown) => Promise<void>
  outgoingClearMessageId: (client: Client, packet: { messageId: number }) => Promise<unknown>
}
const sessionsOf = (broker: Aedes): SessionStore => (broker as unknown as { persistence: SessionStore }).persistence

interface Member {
  client: Client
  qos: 0 | 1
  /** QoS 1 messages written to this member and not yet acknowledged, by packet identifier. */
  inflight: Map<number, PublishPacket>
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
  queued: PublishPacket[]
  listener: (packet: PublishPacket, cb: () => void) => void
}

export interface SharedSubscriptions {
  readonly handler: SharedSubscriptionsHandler
  /** Attaches the PUBACK observer; call once the broker exists. */
  attach: (broker: Aedes) => void
  /** Members per group (`group/filter` → client ids), for tests and metrics. */
  groups: () => Record<string, string[]>
  /** Messages dropped because a group without members was full. */
  readonly dropped: number
  /** Payload bytes waiting in groups without members. */
  readonly queuedBytes: number
  /** SUBSCRIBEs refused because the broker holds its maximum of groups. */
  readonly refusedGroups: number
  /**
   * For a QoS 1 publish about to enter the broker: a promise that settles when every shared group it matches has had
   * it acknowledged by a member (with the worst reason code a member gave), or undefined when no group matches.
   * The split deployment's ingress holds the device's PUBACK on it, so a PUBACK still means "an egress has it".
   */
  awaitDelivery: (topic: string, payload: Buffer) => Promise<{ reasonCode?: number, reasonString?: string }> | undefined
}

interface Waiter {
  remaining: number
  outcome: { reasonCode?: number, reasonString?: string }
  resolve: (outcome: { reasonCode?: number, reasonString?: string }) => void
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

export function createSharedSubscriptions (opts: Partial<SharedSubscriptionOptions> = {}): SharedSubscriptions {
  const options = { ...sharedSubscriptionDefaults, ...opts }
  const groups = new Map<string, Group>()
  let dropped = 0
  let queuedBytes = 0
  let refusedGroups = 0
  let broker: Aedes | undefined
  const sizeOf = (p: PublishPacket): number => (p.payload as Buffer).length ?? 0

  function nextMember (group: Group): Member | undefined {
    for (let i = 0; i < group.members.length; i++) {
      const member = group.members[group.next++ % group.members.length]!
      if (!member.client.closed) return member
    }
    return undefined
  }

  // Publishes whose device waits for a member's acknowledgement, by payload buffer (aedes copies the packet but keeps
  // its payload object, so the buffer identifies the message from the device's publish to the member's PUBACK).
  const waiters = new WeakMap<object, Waiter>()
  function settle (packet: PublishPacket, reasonCode?: number, reasonString?: string): void {
    const w = waiters.get(packet.payload as object)
    if (w === undefined) return
    if (reasonCode !== undefined && reasonCode >= 0x80 && w.outcome.reasonCode === undefined) w.outcome = { reasonCode, ...(reasonString !== undefined ? { reasonString } : {}) }
    if (--w.remaining > 0) return
    waiters.delete(packet.payload as object)
    w.resolve(w.outcome)
  }

  function deliver (group: Group, packet: PublishPacket): void {
    const member = nextMember(group)
    if (member === undefined) {
      if (packet.qos === 0) return
      group.queued.push(packet)
      queuedBytes += sizeOf(packet)
      while (group.queued.length > options.maxQueued || (queuedBytes > options.maxQueuedBytes && group.queued.length > 0)) {
        const lost = group.queued.shift()!
        queuedBytes -= sizeOf(lost)
        dropped++
        settle(lost, QUOTA_EXCEEDED, `shared subscription group ${group.name} has no member and its queue is full`)
      }
      return
    }
    const qos = Math.min(packet.qos, member.qos) as 0 | 1
    // A member that asked for QoS 0 never acknowledges: its delivery is all the device can be promised.
    if (qos === 0) setImmediate(() => settle(packet))
    // A fresh broker counter: aedes' per-client dedupe (by counter) would drop a redelivered, older message, and the
    // session store finds the delivery by it.
    const b = broker as Aedes & { counter: number, id: string }
    const out = { ...packet, qos, dup: false, brokerId: b.id, brokerCounter: ++b.counter } as PublishPacket
    const internal = member.client as unknown as Client & { _nextId: number, deliverQoS: (p: unknown, cb: () => void) => void, deliver0: (p: unknown, cb: () => void) => void }
    if (qos === 0) return internal.deliver0(out, noop)
    // The client's own packet-identifier allocator, so shared and ordinary deliveries never collide.
    out.messageId = internal._nextId
    internal._nextId = internal._nextId >= 65535 ? 1 : internal._nextId + 1
    member.inflight.set(out.messageId, packet)
    if (member.client.clean) return internal.deliverQoS(out, noop)
    // A persistent session keeps its in-flight messages (aedes updates them as it writes); `leave` takes them back.
    sessionsOf(b).outgoingEnqueue({ clientId: member.client.id }, out)
      .then(() => internal.deliverQoS(out, noop), () => internal.deliverQoS(out, noop))
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
      queued: [],
      listener (packet, cb) {
        // §4.7.2: a filter starting with a wildcard does not match topics beginning with `$`.
        if (!(packet.topic.startsWith('$') && /^[+#]/.test(filter))) deliver(g, packet)
        cb()
      }
    }
    groups.set(key, g)
    broker!.subscribe(filter, g.listener as never, noop)
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
    for (const packet of again) deliver(group, packet)
  }

  const handler: SharedSubscriptionsHandler = {
    subscribe (client: Client, subscription: Subscription, callback) {
      const parsed = parseSharedTopic(subscription.topic)
      if (parsed === undefined) return callback(null, client.version === 5 ? TOPIC_FILTER_INVALID : UNSPECIFIED_ERROR)
      if (!groups.has(`${parsed.group}/${parsed.filter}`) && groups.size >= options.maxGroups) {
        refusedGroups++
        return callback(null, client.version === 5 ? QUOTA_EXCEEDED : UNSPECIFIED_ERROR)
      }
      const group = groupFor(parsed.group, parsed.filter)
      const qos = Math.min(subscription.qos ?? 0, 1) as 0 | 1
      const existing = group.members.find((m) => m.client === client)
      if (existing) existing.qos = qos
      else group.members.push({ client, qos, inflight: new Map() })
      callback(null, qos)
      // A member arrived: what waited for one goes out now (after the SUBACK).
      if (group.queued.length > 0) setImmediate(() => { for (const p of group.queued.splice(0)) { queuedBytes -= sizeOf(p); deliver(group, p) } })
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
      b.on('ack', (_orig, client, ack) => {
        const id = ack?.messageId
        if (id === undefined) return
        for (const group of groups.values()) {
          for (const m of group.members) {
            if (m.client !== client) continue
            const packet = m.inflight.get(id)
            if (packet === undefined) continue
            m.inflight.delete(id)
            const puback = ack as { reasonCode?: number, properties?: { reasonString?: string } }
            settle(packet, puback.reasonCode, puback.properties?.reasonString)
            return
          }
        }
      })
    },
    awaitDelivery (topic, payload) {
      let matching = 0
      for (const g of groups.values()) if (g.matches(topic)) matching++
      if (matching === 0) return undefined
      return new Promise((resolve) => waiters.set(payload, { remaining: matching, outcome: {}, resolve }))
    },
    groups: () => Object.fromEntries([...groups.values()].map((g) => [g.key, g.members.map((m) => m.client.id)])),
    get dropped () { return dropped },
    get queuedBytes () { return queuedBytes },
    get refusedGroups () { return refusedGroups }
  }
}

function noop (): void {}
