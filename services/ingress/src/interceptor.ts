import type { Aedes, AedesOptions, Client, PublishPacket } from 'aedes'

/** What a downstream (the egress) tells the device about its publish; reason codes ≥ 0x80 are failures (MQTT 5 §2.4). */
export interface PublishOutcome {
  reasonCode?: number
  reasonString?: string
  /** No verdict (the dataflow stopped before Kafka had it): no acknowledgement; the device is disconnected and resends. */
  unacknowledged?: true
}

export interface InboundPublish {
  clientId: string
  /** 3, 4 (3.1.1) or 5. */
  protocolVersion: number
  packet: PublishPacket
  receivedAt: number
}

/** Settled once, with the publish's outcome downstream (nothing for success). */
export interface PublishAck {
  settle: (outcome?: PublishOutcome | void) => void
}

/**
 * Sees every publish a device makes. Returns true when the publish is its business: for QoS 1 (and 2) the device
 * then gets its PUBACK (PUBREC) when `ack` is settled, with the outcome's reason code; false means "not mine",
 * acknowledged at once. A callback object rather than a promise: one promise and its reactions per publish showed
 * up in profiles at tens of thousands of publishes a second.
 */
export type PublishInterceptor = (publish: InboundPublish, ack: PublishAck) => boolean

/** For QoS 0 there is nothing to acknowledge. */
const ignoredAck: PublishAck = { settle () {} }

/**
 * Wires an interceptor into aedes. QoS 1 goes through the patched `deferPuback` hook, so the broker keeps reading
 * the connection while Kafka works and PUBACKs leave in order. QoS 0 has no acknowledgement to hold. QoS 2 holds
 * `authorizePublish` until the outcome: rare in telemetry, and PUBREC must not precede the downstream ack.
 */
export interface InflightLimit {
  /** Most QoS 1/2 publishes a v5 device may have awaiting their acknowledgement (MQTT 5 Receive Maximum). */
  receiveMaximum: number
  /** Called once the device exceeds it (the caller disconnects it with 0x93). */
  exceeded: (client: Client) => void
  /**
   * Payload bytes of QoS 1 publishes held (awaiting their downstream outcome) across all devices. Past it, a device
   * that publishes is no longer read from — TCP back-pressure reaches it — until the total falls to three quarters.
   */
  maxHeldBytes?: number
  /** Told when connections are paused or resumed for it (metrics, logs). */
  paused?: (count: number) => void
}

type CountedClient = Client & { flowgateInflight?: number }
/** aedes stops reading a paused client's socket (its `pause()`/`resume()` are not in its typings). */
type PausableClient = Client & { pause: () => void, resume: () => void }

/** The held-bytes budget: which connections are paused for it. */
class HeldBudget {
  held = 0
  private readonly paused = new Set<PausableClient>()
  constructor (private readonly max: number, private readonly told?: (count: number) => void) {}

  take (client: Client, bytes: number): void {
    this.held += bytes
    const pausable = client as PausableClient
    if (this.held > this.max && !this.paused.has(pausable)) {
      pausable.pause()
      this.paused.add(pausable)
      this.told?.(this.paused.size)
    }
  }

  give (bytes: number): void {
    this.held -= bytes
    if (this.paused.size > 0 && this.held <= this.max * 0.75) {
      for (const client of this.paused) if (!client.closed) client.resume()
      this.paused.clear()
      this.told?.(0)
    }
  }
}

export function interceptorHooks (getInterceptor: () => PublishInterceptor | undefined, authorize: NonNullable<AedesOptions['authorizePublish']>, limit?: InflightLimit): Pick<AedesOptions, 'authorizePublish' | 'deferPuback'> {
  const inbound = (client: Client, packet: PublishPacket): InboundPublish => ({
    clientId: client.id,
    protocolVersion: client.version ?? 4,
    packet,
    receivedAt: Date.now()
  })
  const budget = limit?.maxHeldBytes !== undefined && limit.maxHeldBytes > 0 ? new HeldBudget(limit.maxHeldBytes, limit.paused) : undefined
  return {
    authorizePublish (client, packet, callback) {
      authorize(client, packet, (err) => {
        if (err || client === null || packet.qos === 1) return callback(err)
        const interceptor = getInterceptor()
        if (interceptor === undefined) return callback(null)
        if (packet.qos === 0) {
          interceptor(inbound(client, packet), ignoredAck)
          return callback(null)
        }
        const held = interceptor(inbound(client, packet), { settle (o) { callback(qos2Verdict(o)) } })
        if (!held) callback(null)
      })
    },
    deferPuback (client, packet, ack) {
      const interceptor = getInterceptor()
      if (interceptor === undefined) return false
      if (limit === undefined) return interceptor(inbound(client, packet), ack)
      const bytes = packet.payload.length
      if (client.version !== 5) {
        if (budget === undefined) return interceptor(inbound(client, packet), ack)
        budget.take(client, bytes)
        const held = interceptor(inbound(client, packet), { settle (o) { budget.give(bytes); ack.settle(o) } })
        if (!held) budget.give(bytes)
        return held
      }
      // Held PUBACKs are what a device's Receive Maximum counts: one more than allowed is a protocol violation
      // (§3.3.4) that would otherwise let one connection hold unbounded memory while Kafka is slow.
      const counted = client as CountedClient
      const inflight = (counted.flowgateInflight ?? 0) + 1
      if (inflight > limit.receiveMaximum) { limit.exceeded(client); return true }
      counted.flowgateInflight = inflight
      budget?.take(client, bytes)
      const held = interceptor(inbound(client, packet), { settle (o) { counted.flowgateInflight!--; budget?.give(bytes); ack.settle(o) } })
      if (!held) { counted.flowgateInflight!--; budget?.give(bytes) }
      return held
    }
  }
}

/** What the patched `authorizePublish` makes of a QoS 2 outcome: PUBREC with the reason code, or a disconnect. */
function qos2Verdict (o: PublishOutcome | void): Error | null {
  if (o === undefined) return null
  if (o.unacknowledged === true) return Object.assign(new Error(o.reasonString ?? 'left unacknowledged'), { unacknowledged: true })
  if (o.reasonCode !== undefined && o.reasonCode >= 0x80) return Object.assign(new Error(o.reasonString ?? 'refused downstream'), { reasonCode: o.reasonCode })
  return null
}

export type { Aedes }
