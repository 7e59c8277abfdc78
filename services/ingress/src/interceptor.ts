import type { Aedes, AedesOptions, Client, PublishPacket } from 'aedes'

/** What a downstream (the egress) tells the device about its publish; reason codes ≥ 0x80 are failures (MQTT 5 §2.4). */
export interface PublishOutcome {
  reasonCode?: number
  reasonString?: string
}

export interface InboundPublish {
  clientId: string
  /** 3, 4 (3.1.1) or 5. */
  protocolVersion: number
  packet: PublishPacket
  receivedAt: number
}

/**
 * Sees every publish a device makes. For QoS 1 (and 2) the returned promise decides when the device gets its
 * PUBACK (PUBREC) and with which reason code; returning undefined means "not mine", acknowledged at once.
 */
export type PublishInterceptor = (publish: InboundPublish) => Promise<PublishOutcome | void> | undefined

/**
 * Wires an interceptor into aedes. QoS 1 goes through the patched `deferPuback` hook, so the broker keeps reading
 * the connection while Kafka works and PUBACKs leave in order. QoS 0 has no acknowledgement to hold. QoS 2 holds
 * `authorizePublish` until the outcome: rare in telemetry, and PUBREC must not precede the downstream ack.
 */
export function interceptorHooks (getInterceptor: () => PublishInterceptor | undefined, authorize: NonNullable<AedesOptions['authorizePublish']>): Pick<AedesOptions, 'authorizePublish' | 'deferPuback'> {
  const inbound = (client: Client, packet: PublishPacket): InboundPublish => ({
    clientId: client.id,
    protocolVersion: client.version ?? 4,
    packet,
    receivedAt: Date.now()
  })
  return {
    authorizePublish (client, packet, callback) {
      authorize(client, packet, (err) => {
        if (err || client === null || packet.qos === 1) return callback(err)
        const outcome = getInterceptor()?.(inbound(client, packet))
        if (outcome === undefined || packet.qos === 0) return callback(null)
        outcome.then((o) => callback(o && o.reasonCode !== undefined && o.reasonCode >= 0x80 ? new Error(o.reasonString ?? 'refused downstream') : null),
          (e: Error) => callback(e))
      })
    },
    deferPuback (client, packet) {
      return getInterceptor()?.(inbound(client, packet))
    }
  }
}

export type { Aedes }
