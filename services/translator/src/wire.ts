/**
 * JSON ⇄ @flowgate/translate shapes: bytes travel as base64 (DESIGN §4). Inputs here have passed the route's schema,
 * so base64 strings are well-formed.
 */
import {
  base64Decode, base64Encode, type KafkaMessage, type KafkaToMqttContext, type MqttMessage, type ToKafkaResult,
  type ToMqttResult, type TranslateContext, type TranslateSettings
} from '@flowgate/translate'

type Json = Record<string, any>

const bytes = (b64: string): Uint8Array => base64Decode(b64) ?? new Uint8Array(0)

export function settingsFromJson (endpoint: Json): TranslateSettings {
  return {
    copyMqttProperties: endpoint.copyMqttProperties,
    partitionStrategy: endpoint.partitionStrategy,
    partitionKeyProperty: endpoint.partitionKeyProperty,
    cloudEventAttributes: endpoint.cloudEventAttributes
  }
}

export function contextFromJson (c: Json, randomUUID: (() => string) | undefined): KafkaToMqttContext {
  const partitions = c.partitions as Record<string, number> | undefined
  const ctx: TranslateContext & KafkaToMqttContext = {
    now: c.now,
    instanceId: c.instanceId,
    dataflow: c.dataflow,
    destinationTopic: c.destinationTopic,
    ...(c.targetName !== undefined ? { targetName: c.targetName } : {}),
    ...(partitions !== undefined ? { partitions: (topic: string) => Object.hasOwn(partitions, topic) ? partitions[topic] : undefined } : {}),
    ...(randomUUID !== undefined ? { randomUUID } : {}),
    ...(c.qos !== undefined ? { qos: c.qos } : {}),
    ...(c.retain !== undefined ? { retain: c.retain } : {})
  }
  return ctx
}

export function mqttMessageFromJson (m: Json): MqttMessage {
  const p = m.properties as Json | undefined
  return {
    topic: m.topic,
    payload: bytes(m.payload),
    ...(m.qos !== undefined ? { qos: m.qos } : {}),
    ...(m.retain !== undefined ? { retain: m.retain } : {}),
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {}),
    ...(p !== undefined
      ? { properties: { ...p, ...(p.correlationData !== undefined ? { correlationData: bytes(p.correlationData) } : {}) } }
      : {})
  }
}

export function kafkaMessageFromJson (m: Json): KafkaMessage {
  return {
    topic: m.topic,
    key: m.key == null ? null : bytes(m.key),
    value: m.value == null ? null : bytes(m.value),
    headers: ((m.headers ?? []) as Array<[string, string]>).map(([n, v]) => [n, bytes(v)]),
    ...(m.timestamp !== undefined ? { timestamp: Number(m.timestamp) } : {}),
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {}),
    ...(m.offset !== undefined ? { offset: m.offset } : {})
  }
}

export function toKafkaResultToJson (r: ToKafkaResult): Json {
  if (!r.ok) return r
  const { record } = r
  return {
    ok: true,
    record: {
      topic: record.topic,
      key: record.key === null ? null : base64Encode(record.key),
      value: base64Encode(record.value),
      headers: record.headers.map(([n, v]) => [n, base64Encode(v)]),
      ...(record.partition !== undefined ? { partition: record.partition } : {})
    },
    ...(r.staticPartitionOf !== undefined ? { staticPartitionOf: r.staticPartitionOf } : {})
  }
}

export function toMqttResultToJson (r: ToMqttResult): Json {
  if (!r.ok) return r
  const { message } = r
  const { correlationData, ...props } = message.properties
  return {
    ok: true,
    message: {
      topic: message.topic,
      payload: base64Encode(message.payload),
      qos: message.qos,
      retain: message.retain,
      properties: { ...props, ...(correlationData !== undefined ? { correlationData: base64Encode(correlationData) } : {}) }
    },
    removedHeaders: r.removedHeaders,
    amqpDecoded: r.amqpDecoded
  }
}
