/**
 * The in-process binding to the embedded broker (aedes): `broker.publish` hands the packet to aedes, which stores
 * it for persistent sessions and forwards it to every matching subscriber; its callback fires once that is done —
 * the in-process equivalent of a PUBACK. No network, no client id, nothing to authenticate.
 *
 * Publishes made this way do not pass aedes' `authorizePublish` (they come from no client), so the ingress'
 * interceptor does not see them: a Kafka → MQTT flow never feeds an MQTT → Kafka flow in the same process, which
 * rules out a topic loop between two dataflows.
 */
import { MqttEndpointError } from './errors.js'
import type { MqttPublisher, OutboundPublish } from './types.js'

/** Publishes in flight into the embedded broker (per flow instance, across its partitions). */
export const EMBEDDED_WINDOW = 100

/** The slice of aedes used here. */
export interface EmbeddedPacket {
  cmd: 'publish'
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  dup: boolean
  properties?: {
    payloadFormatIndicator?: boolean
    messageExpiryInterval?: number
    contentType?: string
    responseTopic?: string
    correlationData?: Buffer
    userProperties?: Record<string, string | string[]>
  }
}

/** The slice of aedes used here (an `Aedes` instance fits). */
export interface EmbeddedBroker {
  publish (packet: EmbeddedPacket, callback: (err?: Error) => void): void
  readonly closed?: boolean
}

export function embeddedPublisher (broker: EmbeddedBroker, opts: { maxInflight?: number } = {}): MqttPublisher {
  let closed = false
  return {
    get connected () { return !closed && broker.closed !== true },
    // A few hundred at most: more only keeps more packets alive at once (measured: 1,000 per partition cost the
    // Kafka → MQTT flow ~40 % more CPU per record in GC, and aedes alone ~10 %), never more throughput.
    maxInflight: opts.maxInflight ?? EMBEDDED_WINDOW,
    publish (message: OutboundPublish) {
      if (closed) return Promise.reject(new MqttEndpointError('FG_ERR_MQTT_CLOSED', 'publisher closed'))
      if (broker.closed === true) return Promise.reject(new MqttEndpointError('FG_ERR_MQTT_UNAVAILABLE', 'the embedded broker is closed'))
      const p = message.properties
      const properties: NonNullable<EmbeddedPacket['properties']> = {}
      if (p) {
        if (p.payloadFormatIndicator !== undefined) properties.payloadFormatIndicator = p.payloadFormatIndicator
        if (p.messageExpiryInterval !== undefined) properties.messageExpiryInterval = p.messageExpiryInterval
        if (p.contentType !== undefined) properties.contentType = p.contentType
        if (p.responseTopic !== undefined) properties.responseTopic = p.responseTopic
        if (p.correlationData !== undefined) properties.correlationData = toBuffer(p.correlationData)
        if (p.userProperties !== undefined && Object.keys(p.userProperties).length > 0) properties.userProperties = p.userProperties
      }
      const packet = {
        cmd: 'publish' as const,
        topic: message.topic,
        payload: toBuffer(message.payload),
        qos: message.qos,
        retain: message.retain,
        dup: false,
        ...(Object.keys(properties).length > 0 ? { properties } : {})
      }
      return new Promise<void>((resolve, reject) => {
        broker.publish(packet, (err) => err ? reject(new MqttEndpointError('FG_ERR_MQTT_UNAVAILABLE', `embedded broker: ${err.message}`, { cause: err })) : resolve())
      })
    },
    async close () { closed = true }
  }
}

function toBuffer (u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
}
