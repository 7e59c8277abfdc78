// The held translate vectors, one set for every front door: the HTTP service and fetch handler in Node
// (translate-http.test.ts) and the edge bundle in workerd and Deno (edge-runtimes.test.ts).
import { readFileSync } from 'node:fs'
import {
  translateKafkaToMqtt, translateMqttToKafka, type KafkaMessage, type MqttMessage, type ToKafkaResult, type ToMqttResult
} from '@flowgate/translate'
import { b64, fixedUUID } from './helpers.js'

export const NOW = Date.UTC(2026, 10, 25, 12, 0, 0)
export const M2K = '/translate/v1/mqtt-to-kafka'
export const K2M = '/translate/v1/kafka-to-mqtt'
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

// A vector set touching every rule: built-ins, user properties, expiry (kept and expired), templates, CloudEvents.
export const mqttMessages: MqttMessage[] = [
  { topic: 'factory/oven', payload: enc('{"t":21}'), receivedAt: NOW - 1_000_000, properties: { payloadFormatIndicator: true, messageExpiryInterval: 3600, contentType: 'application/json', responseTopic: 'r/1', correlationData: new Uint8Array([0, 255]), userProperties: [['device-id', 'd1'], ['tag', 'a'], ['tag', 'b']] } },
  { topic: 'factory/oven', payload: enc('x'), receivedAt: NOW - 4_000_000, properties: { messageExpiryInterval: 3600 } },
  { topic: 'factory/fridge', payload: new Uint8Array([1, 2, 3]), properties: { userProperties: [['specversion', '1.0'], ['id', 'e-1']] } },
  { topic: 'single', payload: new Uint8Array(0), properties: { topicAlias: 3, subscriptionIdentifier: 9 } }
]
export const kafkaMessages: KafkaMessage[] = [
  { topic: 'orders', key: enc('k-1'), value: enc('v'), timestamp: 1_732_500_000_123, headers: [['Content Type', enc('text/plain')], ['foo', new Uint8Array([0xa1, 3, 0x62, 0x61, 0x72])], ['bin', new Uint8Array([0xff])], ['big', new Uint8Array(70_000).fill(0x61)], ['Correlation Data', new Uint8Array([0, 1])]] },
  { topic: 'orders', key: new Uint8Array([0xfe]), value: null, headers: [['Message Expiry Interval', enc('10')]], receivedAt: NOW - 11_000 },
  { topic: 'orders', key: null, value: enc('z'), headers: [['Message Expiry Interval', enc('100')]], receivedAt: NOW - 1_500 }
]

export function mqttJson (m: MqttMessage): unknown {
  const p = m.properties
  return {
    topic: m.topic,
    payload: b64(m.payload),
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {}),
    ...(p !== undefined ? { properties: { ...p, ...(p.correlationData !== undefined ? { correlationData: b64(p.correlationData) } : {}) } } : {})
  }
}
export function kafkaJson (m: KafkaMessage): unknown {
  return {
    topic: m.topic,
    key: m.key === null ? null : b64(m.key),
    value: m.value === null ? null : b64(m.value),
    headers: m.headers.map(([n, v]) => [n, b64(v)]),
    ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}),
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {})
  }
}
export const expectedToKafka = (r: ToKafkaResult): unknown => !r.ok
  ? r
  : { ok: true, record: { topic: r.record.topic, key: r.record.key === null ? null : b64(r.record.key), value: b64(r.record.value), headers: r.record.headers.map(([n, v]) => [n, b64(v)]), ...(r.record.partition !== undefined ? { partition: r.record.partition } : {}) }, ...(r.staticPartitionOf !== undefined ? { staticPartitionOf: r.staticPartitionOf } : {}) }
export const expectedToMqtt = (r: ToMqttResult): unknown => {
  if (!r.ok) return r
  const { correlationData, ...props } = r.message.properties
  return { ok: true, message: { ...r.message, payload: b64(r.message.payload), properties: { ...props, ...(correlationData !== undefined ? { correlationData: b64(correlationData) } : {}) } }, removedHeaders: r.removedHeaders, amqpDecoded: r.amqpDecoded }
}

/** MQTT → Kafka through every rule: the request and what the library answers (CloudEvents ids from fixedUUID). */
export function mqttToKafkaCase (): { body: unknown, expected: unknown[] } {
  const endpoint = { copyMqttProperties: 'Enabled', partitionStrategy: 'Property', partitionKeyProperty: 'device-id', cloudEventAttributes: 'CreateOrRemap', host: 'kafka:9092', kafkaAcks: 'All' } as const
  const context = { now: NOW, instanceId: 1, dataflow: 'df', destinationTopic: 'plant-${inputTopic.2}', targetName: 'kafka', partitions: { 'plant-oven': 6 } }
  const body = { endpoint, context, messages: mqttMessages.map(mqttJson) }
  const expected = translateMqttToKafka(mqttMessages, endpoint, { ...context, partitions: (topic) => (context.partitions as Record<string, number>)[topic], randomUUID: fixedUUID }).map(expectedToKafka)
  return { body, expected }
}

/** Kafka → MQTT through every rule: the request and what the library answers. */
export function kafkaToMqttCase (): { body: unknown, expected: unknown[] } {
  const context = { now: NOW, instanceId: 0, dataflow: 'df', destinationTopic: 'kafka/${inputTopic}', qos: 0, retain: true } as const
  const body = { endpoint: {}, context, messages: kafkaMessages.map(kafkaJson) }
  return { body, expected: translateKafkaToMqtt(kafkaMessages, {}, context).map(expectedToMqtt) }
}

export interface Murmur2Vector { key: string, partitions: Record<string, number> }

/** Kafka's Java partitioner vectors (packages/translate/test/fixtures), one request per partition count. */
export function murmur2Cases (): Array<{ partitions: string, vectors: Murmur2Vector[], body: unknown }> {
  const fixture = JSON.parse(readFileSync(new URL('../../../packages/translate/test/fixtures/murmur2-vectors.json', import.meta.url), 'utf8')) as { vectors: Murmur2Vector[] }
  return ['1', '3', '12', '1000'].map((n) => ({
    partitions: n,
    vectors: fixture.vectors,
    // "Correlation Data" as the key property carries arbitrary key bytes (the Property strategy on a built-in).
    body: {
      endpoint: { partitionStrategy: 'Property', partitionKeyProperty: 'Correlation Data' },
      context: { now: NOW, instanceId: 0, dataflow: 'df', destinationTopic: 'keyed', partitions: { keyed: Number(n) } },
      messages: fixture.vectors.map((v) => ({ topic: 't', payload: '', properties: { correlationData: v.key } }))
    }
  }))
}

/** Static without a known partition count: the answer names staticPartitionOf for the producer. */
export const staticCase = {
  body: { endpoint: { partitionStrategy: 'Static' }, context: { now: NOW, instanceId: 4, dataflow: 'df', destinationTopic: 'x' }, messages: [{ topic: 'a', payload: 'AA==' }] },
  expected: [{ ok: true, record: { topic: 'x', key: null, value: 'AA==', headers: [] }, staticPartitionOf: 4 }]
}

const badContext = { now: 0, instanceId: 0, dataflow: 'df', destinationTopic: 'out' }

/** Bodies the schemas refuse (400 FG_ERR_TRANSLATOR_VALIDATION), each with the JSON Pointer paths it must name. */
export const invalidBodies = {
  mqttToKafka: {
    path: M2K,
    body: {
      endpoint: { partitionStrategy: 'Random', copyMqttProperties: 'yes', bogus: 1 },
      context: { now: 'soon', instanceId: 0, dataflow: 'df' },
      messages: [{ topic: 'a', payload: 'not base64!', properties: { payloadFormatIndicator: 2, userProperties: [['only-name']] } }, { payload: 'AA==' }]
    }
  },
  kafkaToMqtt: {
    path: K2M,
    body: { endpoint: {}, context: { ...badContext, qos: 3 }, messages: [{ topic: 'k', key: 5, headers: [['h', '!!']], timestamp: 'yesterday' }] },
    paths: ['/context/qos', '/messages/0/headers/0/1', '/messages/0/key', '/messages/0/timestamp']
  },
  coercion: {
    path: M2K,
    body: { endpoint: {}, context: { ...badContext, instanceId: '1' }, messages: [] },
    paths: ['/context/instanceId']
  }
}

/** `count` messages the schema accepts (an empty payload each), for the message-count limit. */
export const manyMessages = (count: number): unknown => ({ endpoint: {}, context: badContext, messages: Array.from({ length: count }, () => ({ topic: 'a', payload: '' })) })
