/**
 * An MQTT endpoint as a dataflow destination: the embedded broker in process when the endpoint is Flowgate's own
 * (the builtin `default`, or its host), otherwise an mqtt.js 5 connection per dataflow instance.
 */
import type { Logger } from 'pino'
import {
  connectExternalPublisher, mqttClientOptions, mqttConfigError, mqttDefaults,
  type EmbeddedBroker, type MqttEndpointSettings, type MqttPublisher, type MqttSecrets
} from '@flowgate/mqtt'
import type { EndpointRef } from './resolve.js'
import type { ResourceReader } from './endpoint-secrets.js'
import { embeddedCallbackPublisher } from './callback-publisher.js'
import { FG_ERR_SECRET_KEYS } from './errors.js'

export interface MqttDestinationContext {
  reader: ResourceReader
  /** The embedded aedes broker, when this process hosts it. Without it the embedded endpoint is reached over TCP. */
  embeddedBroker?: EmbeddedBroker
  clientId: string
  logger: Logger
  onState?: (state: 'connected' | 'disconnected', detail?: string) => void
}

export function mqttSettingsOf (endpoint: EndpointRef): MqttEndpointSettings {
  const settings = endpoint.spec.mqttSettings as MqttEndpointSettings | undefined
  if (!settings?.host) throw mqttConfigError(`endpoint ${endpoint.namespace}/${endpoint.name} has no mqttSettings.host`)
  return settings
}

/** QoS and retain of the publishes. A Kafka record carries no retain flag, so `Keep` has nothing to keep: false. */
export function publishFlags (settings: MqttEndpointSettings): { qos: 0 | 1, retain: boolean } {
  return { qos: settings.qos === 0 ? 0 : mqttDefaults.qos, retain: false }
}

export async function resolveMqttSecrets (endpoint: EndpointRef, reader: ResourceReader): Promise<MqttSecrets> {
  const settings = mqttSettingsOf(endpoint)
  const out: MqttSecrets = {}
  const auth = settings.authentication
  if (auth?.method === 'UsernamePassword') {
    const s = await reader.secret(endpoint.namespace, auth.usernamePasswordSettings.secretRef)
    if (s.username === undefined || s.password === undefined) throw FG_ERR_SECRET_KEYS(auth.usernamePasswordSettings.secretRef, 'needs "username" and "password"')
    out.usernamePassword = { username: s.username.toString(), password: s.password.toString() }
  }
  if (auth?.method === 'X509Certificate') {
    const s = await reader.secret(endpoint.namespace, auth.x509CertificateSettings.secretRef)
    if (!s['tls.crt'] || !s['tls.key']) throw FG_ERR_SECRET_KEYS(auth.x509CertificateSettings.secretRef, 'needs "tls.crt" and "tls.key"')
    out.tls = { cert: s['tls.crt'].toString(), key: s['tls.key'].toString() }
  }
  const caRef = settings.tls?.trustedCaCertificateConfigMapRef
  if (caRef) out.trustedCa = Object.values(await reader.configMap(endpoint.namespace, caRef)).join('\n')
  return out
}

/** A publisher for one dataflow instance. The embedded broker's is shared by every instance (`shared`). */
export async function openMqttDestination (endpoint: EndpointRef, ctx: MqttDestinationContext): Promise<MqttPublisher> {
  const settings = mqttSettingsOf(endpoint)
  // With callbacks (callback-publisher.ts): the Kafka → MQTT flow's window counts completions, no promise per record.
  if (endpoint.embedded && ctx.embeddedBroker) return embeddedCallbackPublisher(ctx.embeddedBroker)
  const secrets = await resolveMqttSecrets(endpoint, ctx.reader)
  const prefix = settings.clientIdPrefix ?? 'flowgate'
  const setup = mqttClientOptions(settings, secrets, { clientId: `${prefix}-${ctx.clientId}` })
  const publisher = connectExternalPublisher(setup, {
    maxInflightMessages: settings.maxInflightMessages ?? mqttDefaults.maxInflightMessages,
    logger: ctx.logger,
    ...(ctx.onState ? { onState: ctx.onState } : {})
  })
  // Wait briefly for the first CONNACK so a healthy destination starts ready; a broker that is down is not a start
  // failure (the flow reports degraded and retries), so a timeout here is ignored.
  await publisher.waitConnected(3_000).catch(() => {})
  return publisher
}
