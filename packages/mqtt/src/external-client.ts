/**
 * A publisher to an external MQTT broker through mqtt.js 5 (MQTT 5). mqtt.js reconnects on its own; while it is
 * down a publish fails at once with FG_ERR_MQTT_UNAVAILABLE (the caller keeps the Kafka offset and retries), and the
 * QoS 1 publishes in flight when the connection dropped fail too — they are taken out of mqtt.js' outgoing store
 * (`removeOutgoingMessage`) so that a reconnect does not resend them behind the caller's back, out of order with its
 * retry and past the broker's Receive Maximum (test/e2e/faults/split-publisher-cut.test.ts).
 */
import mqtt, { type IConnackPacket, type IClientPublishOptions, type MqttClient } from 'mqtt'
import { MqttEndpointError, pubackError } from './errors.js'
import { Inflight } from './inflight.js'
import { mqttDefaults } from './options.js'
import type { MqttClientSetup } from './client-options.js'
import type { MqttPublisher, OutboundPublish } from './types.js'

export interface ExternalPublisherOptions {
  /** The endpoint's maxInflightMessages; the broker's Receive Maximum caps it further. */
  maxInflightMessages?: number
  publishTimeoutMs?: number
  /** Told when the connection goes up or down (with why). */
  onState?: (state: 'connected' | 'disconnected', detail?: string) => void
  logger?: { debug: (o: object, msg: string) => void, warn: (o: object, msg: string) => void }
}

type Callback = (err?: Error | null) => void

export interface ExternalPublisher extends MqttPublisher {
  readonly client: MqttClient
  /** The last connection or authentication error, for status messages. */
  readonly lastError: string | undefined
  /** Resolves at the first CONNACK (or rejects after `timeoutMs`). */
  waitConnected: (timeoutMs?: number) => Promise<void>
}

export function connectExternalPublisher (setup: MqttClientSetup, opts: ExternalPublisherOptions = {}): ExternalPublisher {
  const configured = opts.maxInflightMessages ?? mqttDefaults.maxInflightMessages
  const inflight = new Inflight(configured)
  const timeoutMs = opts.publishTimeoutMs ?? mqttDefaults.publishTimeoutMs
  const pending = new Set<Callback>()
  let lastError: string | undefined
  let closed = false

  const client = mqtt.connect(setup.url, {
    ...setup.options,
    // Flowgate's own publishes: its ingress delivers nothing this client publishes to an egress (a topic loop between
    // an MQTT → Kafka and a Kafka → MQTT dataflow would amplify forever). Other MQTT 5 brokers ignore the property.
    ...(setup.options.protocolVersion === 5 ? { properties: { ...setup.options.properties, userProperties: { ...setup.options.properties?.userProperties, 'flowgate-role': 'egress' } } } : {}),
    manualConnect: setup.refreshAuthentication !== undefined
  })
  if (setup.refreshAuthentication) {
    // Tokens expire: fetch a fresh one before every connect and reconnect.
    const refresh = setup.refreshAuthentication
    const authenticate = (): void => {
      refresh().then((data) => {
        client.options.properties = { ...client.options.properties, authenticationData: data }
        if (!closed) client.connect()
      }, (err: Error) => { lastError = `token: ${err.message}`; opts.logger?.warn({ err: err.message }, 'mqtt token unavailable') })
    }
    authenticate()
  }

  client.on('connect', (connack: IConnackPacket) => {
    lastError = undefined
    const receiveMaximum = connack.properties?.receiveMaximum
    inflight.limit = receiveMaximum ? Math.min(configured, receiveMaximum) : configured
    opts.logger?.debug({ url: setup.url, inflight: inflight.limit }, 'mqtt destination connected')
    opts.onState?.('connected')
  })
  client.on('error', (err: Error & { code?: number }) => {
    lastError = err.message
    opts.logger?.warn({ url: setup.url, err: err.message, code: err.code }, 'mqtt destination error')
  })
  client.on('close', () => {
    // In-flight QoS 1 publishes fail now, and the caller sends them again, in order, once connected. mqtt.js would
    // resend them too, from its outgoing *store* (its callback map alone is not what it resends from): both the
    // callback and the stored packet go, so the window is not sent twice and the broker's Receive Maximum holds.
    const outgoing = (client as unknown as { outgoing: Record<string, { cb: unknown }> }).outgoing
    const ours = Object.entries(outgoing).filter(([, entry]) => pending.has(entry.cb as Callback)).map(([id]) => Number(id))
    for (const cb of [...pending]) cb(new MqttEndpointError('FG_ERR_MQTT_UNAVAILABLE', `connection to ${setup.url} closed${lastError ? `: ${lastError}` : ''}`))
    for (const id of ours) client.removeOutgoingMessage(id)
    if (!closed) opts.onState?.('disconnected', lastError)
  })

  function unavailable (): MqttEndpointError {
    return new MqttEndpointError('FG_ERR_MQTT_UNAVAILABLE', `not connected to ${setup.url}${lastError ? `: ${lastError}` : ''}`)
  }

  async function publish (message: OutboundPublish): Promise<void> {
    if (closed) throw new MqttEndpointError('FG_ERR_MQTT_CLOSED', 'publisher closed')
    if (!client.connected) throw unavailable()
    await inflight.acquire()
    try {
      if (!client.connected) throw unavailable()
      await new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined
        const cb: Callback = (err) => {
          if (!pending.delete(cb)) return
          if (timer) clearTimeout(timer)
          if (!err) return resolve()
          if (err instanceof MqttEndpointError) return reject(err)
          const code = (err as Error & { code?: unknown }).code
          if (typeof code === 'number' && code >= 0x80) return reject(pubackError(code, err.message))
          reject(new MqttEndpointError('FG_ERR_MQTT_UNAVAILABLE', err.message, { cause: err }))
        }
        pending.add(cb)
        if (message.qos > 0) {
          timer = setTimeout(() => cb(new MqttEndpointError('FG_ERR_MQTT_TIMEOUT', `no PUBACK from ${setup.url} in ${timeoutMs} ms`)), timeoutMs)
        }
        const p = message.properties
        const options: IClientPublishOptions = { qos: message.qos, retain: message.retain }
        if (p) {
          options.properties = {}
          if (p.payloadFormatIndicator !== undefined) options.properties.payloadFormatIndicator = p.payloadFormatIndicator
          if (p.messageExpiryInterval !== undefined) options.properties.messageExpiryInterval = p.messageExpiryInterval
          if (p.contentType !== undefined) options.properties.contentType = p.contentType
          if (p.responseTopic !== undefined) options.properties.responseTopic = p.responseTopic
          if (p.correlationData !== undefined) options.properties.correlationData = toBuffer(p.correlationData)
          if (p.userProperties !== undefined && Object.keys(p.userProperties).length > 0) options.properties.userProperties = p.userProperties
        }
        client.publish(message.topic, toBuffer(message.payload), options, cb)
      })
    } finally {
      inflight.release()
    }
  }

  return {
    client,
    publish,
    get connected () { return client.connected },
    get maxInflight () { return inflight.limit },
    get lastError () { return lastError },
    waitConnected (ms = mqttDefaults.connectTimeoutMs) {
      if (client.connected) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { client.off('connect', on); reject(unavailable()) }, ms)
        function on (): void { clearTimeout(timer); resolve() }
        client.once('connect', on)
      })
    },
    async close () {
      closed = true
      // Let outstanding PUBACKs arrive before the DISCONNECT (end without force waits for in-flight acks).
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()))
    }
  }
}

function toBuffer (u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength)
}
