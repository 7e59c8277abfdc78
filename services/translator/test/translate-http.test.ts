// The translator over HTTP and as a fetch handler: same answers as the library, and the same as each other.
import t from 'tap'
import { readFileSync } from 'node:fs'
import {
  translateKafkaToMqtt, translateMqttToKafka, type KafkaMessage, type MqttMessage, type ToKafkaResult, type ToMqttResult
} from '@flowgate/translate'
import { b64, doors, fixedUUID } from './helpers.js'

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0)
const M2K = '/translate/v1/mqtt-to-kafka'
const K2M = '/translate/v1/kafka-to-mqtt'
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

// A vector set touching every rule: built-ins, user properties, expiry (kept and expired), templates, CloudEvents.
const mqttMessages: MqttMessage[] = [
  { topic: 'factory/oven', payload: enc('{"t":21}'), receivedAt: NOW - 1_000_000, properties: { payloadFormatIndicator: true, messageExpiryInterval: 3600, contentType: 'application/json', responseTopic: 'r/1', correlationData: new Uint8Array([0, 255]), userProperties: [['device-id', 'd1'], ['tag', 'a'], ['tag', 'b']] } },
  { topic: 'factory/oven', payload: enc('x'), receivedAt: NOW - 4_000_000, properties: { messageExpiryInterval: 3600 } },
  { topic: 'factory/fridge', payload: new Uint8Array([1, 2, 3]), properties: { userProperties: [['specversion', '1.0'], ['id', 'e-1']] } },
  { topic: 'single', payload: new Uint8Array(0), properties: { topicAlias: 3, subscriptionIdentifier: 9 } }
]
const kafkaMessages: KafkaMessage[] = [
  { topic: 'orders', key: enc('k-1'), value: enc('v'), timestamp: 1_732_500_000_123, headers: [['Content Type', enc('text/plain')], ['foo', new Uint8Array([0xa1, 3, 0x62, 0x61, 0x72])], ['bin', new Uint8Array([0xff])], ['big', new Uint8Array(70_000).fill(0x61)], ['Correlation Data', new Uint8Array([0, 1])]] },
  { topic: 'orders', key: new Uint8Array([0xfe]), value: null, headers: [['Message Expiry Interval', enc('10')]], receivedAt: NOW - 11_000 },
  { topic: 'orders', key: null, value: enc('z'), headers: [['Message Expiry Interval', enc('100')]], receivedAt: NOW - 1_500 }
]

function mqttJson (m: MqttMessage): unknown {
  const p = m.properties
  return {
    topic: m.topic,
    payload: b64(m.payload),
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {}),
    ...(p !== undefined ? { properties: { ...p, ...(p.correlationData !== undefined ? { correlationData: b64(p.correlationData) } : {}) } } : {})
  }
}
function kafkaJson (m: KafkaMessage): unknown {
  return {
    topic: m.topic,
    key: m.key === null ? null : b64(m.key),
    value: m.value === null ? null : b64(m.value),
    headers: m.headers.map(([n, v]) => [n, b64(v)]),
    ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}),
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {})
  }
}
const expectedToKafka = (r: ToKafkaResult): unknown => !r.ok
  ? r
  : { ok: true, record: { topic: r.record.topic, key: r.record.key === null ? null : b64(r.record.key), value: b64(r.record.value), headers: r.record.headers.map(([n, v]) => [n, b64(v)]), ...(r.record.partition !== undefined ? { partition: r.record.partition } : {}) }, ...(r.staticPartitionOf !== undefined ? { staticPartitionOf: r.staticPartitionOf } : {}) }
const expectedToMqtt = (r: ToMqttResult): unknown => {
  if (!r.ok) return r
  const { correlationData, ...props } = r.message.properties
  return { ok: true, message: { ...r.message, payload: b64(r.message.payload), properties: { ...props, ...(correlationData !== undefined ? { correlationData: b64(correlationData) } : {}) } }, removedHeaders: r.removedHeaders, amqpDecoded: r.amqpDecoded }
}

t.test('MQTT → Kafka over HTTP and through the fetch handler answers exactly what the library does, in order', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const endpoint = { copyMqttProperties: 'Enabled', partitionStrategy: 'Property', partitionKeyProperty: 'device-id', cloudEventAttributes: 'CreateOrRemap', host: 'kafka:9092', kafkaAcks: 'All' } as const
  const context = { now: NOW, instanceId: 1, dataflow: 'df', destinationTopic: 'plant-${inputTopic.2}', targetName: 'kafka', partitions: { 'plant-oven': 6 } }
  const body = { endpoint, context, messages: mqttMessages.map(mqttJson) }
  const expected = translateMqttToKafka(mqttMessages, endpoint, { ...context, partitions: (topic) => (context.partitions as Record<string, number>)[topic], randomUUID: fixedUUID }).map(expectedToKafka)
  const http = await d.http(M2K, body)
  const direct = await d.direct(M2K, body)
  t.equal(http.status, 200)
  t.same(http.body, { results: expected })
  t.same(direct, http, 'the fetch handler answers the same')
  t.match(http.body.results, [{ ok: true }, { ok: false, reason: 'expired' }, { ok: true }, { ok: false, reason: 'invalid-topic' }])
})

t.test('Kafka → MQTT over HTTP and through the fetch handler answers exactly what the library does, in order', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const context = { now: NOW, instanceId: 0, dataflow: 'df', destinationTopic: 'kafka/${inputTopic}', qos: 0, retain: true } as const
  const body = { endpoint: {}, context, messages: kafkaMessages.map(kafkaJson) }
  const expected = translateKafkaToMqtt(kafkaMessages, {}, context).map(expectedToMqtt)
  const http = await d.http(K2M, body)
  const direct = await d.direct(K2M, body)
  t.equal(http.status, 200)
  t.same(http.body, { results: expected })
  t.same(direct, http, 'the fetch handler answers the same')
  t.match(http.body.results[0], { ok: true, removedHeaders: { nonUtf8: 1, tooLarge: 1 }, amqpDecoded: 1, message: { properties: { contentType: 'text/plain', correlationData: 'AAE=' } } })
  t.match(http.body.results[1], { ok: false, reason: 'expired' })
  t.match(http.body.results[2], { ok: true, message: { properties: { messageExpiryInterval: 99 } } })
})

t.test("Kafka's Java partitioner vectors land on the same partitions through HTTP and the fetch handler", async (t) => {
  const fixture = JSON.parse(readFileSync(new URL('../../../packages/translate/test/fixtures/murmur2-vectors.json', import.meta.url), 'utf8')) as { vectors: Array<{ key: string, partitions: Record<string, number> }> }
  const d = await doors()
  t.teardown(() => d.server.close())
  for (const n of ['1', '3', '12', '1000']) {
    // "Correlation Data" as the key property carries arbitrary key bytes (the Property strategy on a built-in).
    const body = {
      endpoint: { partitionStrategy: 'Property', partitionKeyProperty: 'Correlation Data' },
      context: { now: NOW, instanceId: 0, dataflow: 'df', destinationTopic: 'keyed', partitions: { keyed: Number(n) } },
      messages: fixture.vectors.map((v) => ({ topic: 't', payload: '', properties: { correlationData: v.key } }))
    }
    const http = await d.http(M2K, body)
    const direct = await d.direct(M2K, body)
    t.same(direct, http)
    const keyed = fixture.vectors.map((v, i) => [v, http.body.results[i]] as const).filter(([v]) => v.key !== '')
    for (const [v, r] of keyed) t.same({ key: r.record.key, partition: r.record.partition }, { key: v.key, partition: v.partitions[n] }, `key ${v.key} / ${n}`)
  }
})

t.test('Static without a known partition count answers staticPartitionOf for the producer', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const body = { endpoint: { partitionStrategy: 'Static' }, context: { now: NOW, instanceId: 4, dataflow: 'df', destinationTopic: 'x' }, messages: [{ topic: 'a', payload: 'AA==' }] }
  const http = await d.http(M2K, body)
  t.same(http.body.results, [{ ok: true, record: { topic: 'x', key: null, value: 'AA==', headers: [] }, staticPartitionOf: 4 }])
  t.same(await d.direct(M2K, body), http)
})
