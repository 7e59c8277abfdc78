import type { LookupFunction } from 'node:net'
import { Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import { endpointKafkaConfig, createBatchingProducer, registerCodecs, pinoLogCreator, toKafkaEndpointError, type KafkaEndpoint, type ResolvedSecrets, type SendRecord } from '@flowgate/kafka'
import { translateMqttMessage, userPropertiesFrom, type MqttProperties, type TranslateSettings } from '@flowgate/translate'
import type { EmbeddedBroker } from '@flowgate/mqtt'
import type { FlowFactories } from './runtime.js'
import { createKafkaToMqttFlow } from './kafka-source-factory.js'
import { createMqttNetworkSource, type MqttNetworkSourceOptions } from './mqtt-network-source.js'
import type { RemoteTranslator } from './remote-translator.js'
import type { ResolvedDataflow, EndpointRef } from './resolve.js'
import type { InboundMqttMessage, KafkaDestination, TranslateToKafka } from './ports.js'

/** Reads a Secret's values (decrypted) or a ConfigMap's data; the runtime never sees a secret any other way. */
export interface ResourceReader {
  secret: (namespace: string, name: string) => Promise<Record<string, Buffer>>
  configMap: (namespace: string, name: string) => Promise<Record<string, string>>
}

export function kafkaEndpointOf (ref: EndpointRef): KafkaEndpoint {
  return { ...(ref.spec.kafkaSettings as unknown as Omit<KafkaEndpoint, 'name' | 'namespace'>), name: ref.name, namespace: ref.namespace }
}

/**
 * The secret material an endpoint's references resolve to. SASL secrets hold `username` and `password`; a secret
 * with only `token` (the seed's `--from-literal=token=…` example) is an Event Hubs connection string, whose user
 * name is always `$ConnectionString`.
 */
export async function resolveSecrets (endpoint: KafkaEndpoint, reader: ResourceReader): Promise<ResolvedSecrets> {
  const out: ResolvedSecrets = {}
  const auth = endpoint.authentication
  if (auth.method === 'Sasl') {
    const s = await reader.secret(endpoint.namespace, auth.saslSettings.secretRef)
    const password = s.password ?? s.token
    if (password === undefined) throw Object.assign(new Error(`Secret ${auth.saslSettings.secretRef} has neither "password" nor "token"`), { code: 'FG_ERR_SECRET_KEYS' })
    out.sasl = { username: s.username?.toString() ?? '$ConnectionString', password: password.toString() }
  }
  if (auth.method === 'X509Certificate') {
    const s = await reader.secret(endpoint.namespace, auth.x509CertificateSettings.secretRef)
    if (!s['tls.crt'] || !s['tls.key']) throw Object.assign(new Error(`Secret ${auth.x509CertificateSettings.secretRef} needs "tls.crt" and "tls.key"`), { code: 'FG_ERR_SECRET_KEYS' })
    out.tls = { cert: s['tls.crt'].toString(), key: s['tls.key'].toString() }
  }
  const caRef = endpoint.tls.trustedCaCertificateConfigMapRef
  if (caRef) out.trustedCa = Object.values(await reader.configMap(endpoint.namespace, caRef)).join('\n')
  return out
}

/** The same bytes as a Buffer, without a copy (kafkajs wants Buffers; the translator returns Uint8Arrays). */
function bufferView (bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Most records carry no headers: one shared empty list (the producer only reads it). */
const noHeaders: SendRecord['headers'] = []

/** mqtt-packet's decoded properties → the translator's shape (user properties as ordered pairs). */
export function mqttPropertiesOf (properties: Record<string, unknown> | undefined): MqttProperties | undefined {
  if (!properties) return undefined
  const p = properties as MqttProperties & { userProperties?: Record<string, string | string[]> }
  return { ...p, userProperties: userPropertiesFrom(p.userProperties) }
}

export interface FlowFactoryOptions {
  /** The embedded broker, for Kafka → MQTT flows whose destination is Flowgate's own broker. */
  embeddedBroker?: EmbeddedBroker
  /** Resolves Kafka broker names instead of DNS (`--kafka-host-alias name=address`). */
  lookup?: LookupFunction
  /** MQTT sources that are not in process (external brokers; the ingress in the split deployment) through mqtt.js. */
  mqttSource?: Partial<MqttNetworkSourceOptions>
  /** Translate through the translator service (the split deployment) instead of in process. */
  remoteTranslator?: RemoteTranslator
}

export function createFlowFactories (reader: ResourceReader, extra: FlowFactoryOptions = {}): FlowFactories {
  registerCodecs()
  return {
    kafkaToMqttFlow: (dataflow, ctx) => createKafkaToMqttFlow(dataflow, ctx, { reader, ...extra }),
    ...(extra.mqttSource !== undefined ? { mqttSource: createMqttNetworkSource(extra.mqttSource) } : {}),
    async kafkaDestination (dataflow: ResolvedDataflow, ctx: { instanceId: number, logger: Logger, onProduceRequest?: (seconds: number) => void }): Promise<KafkaDestination> {
      const endpoint = kafkaEndpointOf(dataflow.destination)
      const secrets = await resolveSecrets(endpoint, reader)
      const { config } = endpointKafkaConfig(endpoint, secrets, { clientId: `flowgate-${dataflow.namespace}-${dataflow.name}`, logger: ctx.logger, ...(extra.lookup ? { lookup: extra.lookup } : {}) })
      const kafka = new Kafka({ ...config, logCreator: pinoLogCreator(ctx.logger) })
      const onProduceRequest = ctx.onProduceRequest
      const producer = createBatchingProducer(kafka, endpoint, {
        logger: ctx.logger,
        instanceId: ctx.instanceId,
        ...(onProduceRequest ? { onSendLatency: (l: { ms: number }) => onProduceRequest(l.ms / 1000) } : {})
      })
      return {
        send (record, done) {
          const sendRecord: SendRecord = {
            topic: record.topic,
            key: record.key ? bufferView(record.key) : null,
            value: bufferView(record.value),
            headers: record.headers.length === 0 ? noHeaders : record.headers.map(([k, v]) => [k, bufferView(v)])
          }
          if (record.partition !== undefined) sendRecord.partition = record.partition
          producer.sendWith(sendRecord, done)
        },
        connect: () => producer.connect().catch((err: unknown) => { throw toKafkaEndpointError(err) }),
        close: () => producer.close()
      }
    },
    mqttToKafkaTranslator (dataflow: ResolvedDataflow, ctx: { instanceId: number }): TranslateToKafka {
      const settings = dataflow.destination.spec.kafkaSettings as TranslateSettings
      if (extra.remoteTranslator !== undefined) {
        return extra.remoteTranslator.forDataflow({ endpoint: dataflow.destination.spec.kafkaSettings ?? {}, instanceId: ctx.instanceId, dataflow: dataflow.name, destinationTopic: dataflow.destination.dataDestination, targetName: dataflow.destination.name })
      }
      return (message: InboundMqttMessage, now: number) => {
        const result = translateMqttMessage({
          topic: message.topic,
          payload: message.payload,
          qos: message.qos,
          retain: message.retain,
          properties: mqttPropertiesOf(message.properties),
          receivedAt: message.receivedAt
        }, settings, { now, instanceId: ctx.instanceId, dataflow: dataflow.name, destinationTopic: dataflow.destination.dataDestination, targetName: dataflow.destination.name })
        return result.ok ? { ok: true, record: result.record } : { ok: false, reason: result.reason, detail: result.detail }
      }
    }
  }
}
