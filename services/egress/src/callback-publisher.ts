/**
 * Publishing with a callback instead of a promise per message (issue 18, item 9): the Kafka → MQTT flow's sliding
 * window counts completions instead of awaiting one promise per record, and the embedded broker's packet is built in
 * one step from the translated message (no intermediate publish and properties copies).
 */
import { EMBEDDED_WINDOW, MqttEndpointError, type EmbeddedBroker, type EmbeddedPacket, type MqttPublisher, type OutboundPublish } from '@flowgate/mqtt'

export type PublishCallback = (err?: Error) => void

export interface CallbackPublisher extends MqttPublisher {
  /** Publishes and calls `cb` once done (PUBACK, or handed to the embedded broker) or failed; never throws. */
  publishWith: (message: OutboundPublish, cb: PublishCallback) => void
}

/** Any publisher through its promise (mqtt.js destinations: their cost is the network's). */
export function withCallbacks (publisher: MqttPublisher): CallbackPublisher {
  if ('publishWith' in publisher) return publisher as CallbackPublisher
  const p = publisher as MqttPublisher & { publishWith?: CallbackPublisher['publishWith'] }
  p.publishWith = (message, cb) => { publisher.publish(message).then(() => cb(), cb) }
  return p as CallbackPublisher
}

/**
 * The embedded aedes broker, as @flowgate/mqtt's embeddedPublisher (same packet, same errors), with callbacks.
 * Publishes made this way do not pass aedes' `authorizePublish`: no topic loop through the ingress' interceptor.
 */
export function embeddedCallbackPublisher (broker: EmbeddedBroker, opts: { maxInflight?: number } = {}): CallbackPublisher {
  let closed = false
  function publishWith (message: OutboundPublish, cb: PublishCallback): void {
    if (closed) return cb(new MqttEndpointError('FG_ERR_MQTT_CLOSED', 'publisher closed'))
    if (broker.closed === true) return cb(new MqttEndpointError('FG_ERR_MQTT_UNAVAILABLE', 'the embedded broker is closed'))
    const p = message.properties
    let properties: EmbeddedPacket['properties']
    if (p) {
      if (p.payloadFormatIndicator !== undefined) (properties ??= {}).payloadFormatIndicator = p.payloadFormatIndicator
      if (p.messageExpiryInterval !== undefined) (properties ??= {}).messageExpiryInterval = p.messageExpiryInterval
      if (p.contentType !== undefined) (properties ??= {}).contentType = p.contentType
      if (p.responseTopic !== undefined) (properties ??= {}).responseTopic = p.responseTopic
      if (p.correlationData !== undefined) (properties ??= {}).correlationData = toBuffer(p.correlationData)
      if (p.userProperties !== undefined) {
        for (const _ in p.userProperties) { (properties ??= {}).userProperties = p.userProperties; break }
      }
    }
    const packet: EmbeddedPacket = { cmd: 'publish', topic: message.topic, payload: toBuffer(message.payload), qos: message.qos, retain: message.retain, dup: false }
    if (properties !== undefined) packet.properties = properties
    broker.publish(packet, (err) => err ? cb(new MqttEndpointError('FG_ERR_MQTT_UNAVAILABLE', `embedded broker: ${err.message}`, { cause: err })) : cb())
  }
  return {
    get connected () { return !closed && broker.closed !== true },
    maxInflight: opts.maxInflight ?? EMBEDDED_WINDOW,
    publishWith,
    publish: (message) => new Promise<void>((resolve, reject) => publishWith(message, (err) => err ? reject(err) : resolve())),
    async close () { closed = true }
  }
}

function toBuffer (u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
}
