// Properties over random inputs: MQTT → Kafka → MQTT is lossless, nothing crashes either way, order is kept.
import t from 'tap'
import fc from 'fast-check'
import { BUILT_IN_HEADER_NAMES } from '../src/header-names.js'
import { translateKafkaToMqtt } from '../src/kafka-to-mqtt.js'
import { translateMqttToKafka } from '../src/mqtt-to-kafka.js'
import type { MqttMessage, MqttPublish, TranslateSettings } from '../src/types.js'
import { ctx, mqttCtx, NOW } from './helpers.js'

// Any string an MQTT string can carry: no U+0000, no lone surrogate (fast-check's 'grapheme' units are well-formed).
const mqttString = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\u0000'))
const topicName = fc.array(fc.string({ unit: 'grapheme-ascii', maxLength: 6 }).filter((s) => !/[+#\u0000]/.test(s)), { minLength: 1, maxLength: 4 })
  .map((xs) => xs.join('/')).filter((s) => s.length > 0)
// A handful of names, so repeats are frequent; names of built-ins excluded (the seed leaves those collisions undefined).
const userPropertyName = fc.oneof(fc.constantFrom('a', 'b', 'device-id', 'Key', 'ünï'), mqttString)
  .filter((n) => !(BUILT_IN_HEADER_NAMES as readonly string[]).includes(n))

const mqttMessage: fc.Arbitrary<MqttMessage> = fc.record({
  topic: topicName,
  payload: fc.uint8Array({ maxLength: 64 }),
  properties: fc.record({
    payloadFormatIndicator: fc.boolean(),
    messageExpiryInterval: fc.integer({ min: 1, max: 0xffffffff }),
    contentType: mqttString,
    responseTopic: topicName,
    correlationData: fc.uint8Array({ maxLength: 32 }),
    userProperties: fc.array(fc.tuple(userPropertyName, mqttString), { maxLength: 8 })
  }, { requiredKeys: [] }),
  receivedAt: fc.constant(NOW)
})

const settings: TranslateSettings = { partitionStrategy: 'Default' }

function roundTrip (m: MqttMessage): MqttPublish & { removed: unknown } {
  const [k] = translateMqttToKafka([m], settings, ctx({ destinationTopic: 'round-trip' }))
  if (k === undefined || !k.ok) throw new Error(`MQTT → Kafka dropped: ${JSON.stringify(k)}`)
  const [back] = translateKafkaToMqtt([{ ...k.record, receivedAt: NOW }], settings, mqttCtx({ destinationTopic: '${inputTopic}' }))
  if (back === undefined || !back.ok) throw new Error(`Kafka → MQTT dropped: ${JSON.stringify(back)}`)
  return { ...back.message, removed: back.removedHeaders }
}

const normalisedProperties = (m: MqttMessage): Record<string, unknown> => {
  const p = m.properties ?? {}
  const out: Record<string, unknown> = { userProperties: p.userProperties ?? [] }
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator === true || p.payloadFormatIndicator === 1
  if (p.messageExpiryInterval !== undefined) out.messageExpiryInterval = p.messageExpiryInterval
  if (p.contentType !== undefined) out.contentType = p.contentType
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic
  if (p.correlationData !== undefined) out.correlationData = Array.from(p.correlationData)
  return out
}

t.test('MQTT → Kafka → MQTT is lossless: payload, every built-in property, user properties with repeated names', async (t) => {
  fc.assert(fc.property(mqttMessage, (m) => {
    const back = roundTrip(m)
    t.same(back.removed, { nonUtf8: 0, tooLarge: 0 })
    const got: Record<string, unknown> = { ...back.properties }
    if (back.properties.correlationData !== undefined) got.correlationData = Array.from(back.properties.correlationData)
    t.same(Array.from(back.payload), Array.from(m.payload))
    // A keyless record (Default) gets no "Key"; the absent timestamp no "Timestamp": nothing is added.
    t.same(got, normalisedProperties(m))
  }), { numRuns: 500 })
})

t.test('MQTT → Kafka → MQTT keeps the user properties even with a Key and a Timestamp added in front', async (t) => {
  fc.assert(fc.property(mqttMessage, fc.integer({ min: 0, max: 2 ** 45 }), (m, timestamp) => {
    const [k] = translateMqttToKafka([m], { partitionStrategy: 'Topic' }, ctx({ destinationTopic: 'rt' }))
    if (k === undefined || !k.ok) return false
    const [back] = translateKafkaToMqtt([{ ...k.record, timestamp }], {}, mqttCtx({ destinationTopic: 'x' }))
    if (back === undefined || !back.ok) return false
    const user = back.message.properties.userProperties
    t.same(user.slice(0, 2), [['Key', m.topic], ['Timestamp', String(timestamp)]])
    t.same(user.slice(2), m.properties?.userProperties ?? [])
    return true
  }), { numRuns: 200 })
})

t.test('MQTT → Kafka keeps the user properties in order as headers, repeated names kept', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(userPropertyName, mqttString), { maxLength: 20 }), (userProperties) => {
    const [k] = translateMqttToKafka([{ topic: 'a', payload: new Uint8Array(0), properties: { userProperties } }], {}, ctx())
    if (k === undefined || !k.ok) return false
    return JSON.stringify(k.record.headers.map(([n, v]) => [n, new TextDecoder().decode(v)])) === JSON.stringify(userProperties)
  }), { numRuns: 300 })
  t.pass()
})

const anySettings = fc.record({
  copyMqttProperties: fc.constantFrom('Enabled', 'Disabled'),
  partitionStrategy: fc.constantFrom('Default', 'Static', 'Topic', 'Property'),
  partitionKeyProperty: fc.constantFrom('a', 'Content Type', 'Correlation Data', 'zzz'),
  cloudEventAttributes: fc.constantFrom('Propagate', 'CreateOrRemap', undefined)
}, { requiredKeys: [] }) as fc.Arbitrary<TranslateSettings>

t.test('no Kafka record crashes Kafka → MQTT: random bytes in keys, values, header names and values', async (t) => {
  const header = fc.tuple(fc.string({ unit: 'binary', maxLength: 12 }), fc.uint8Array({ maxLength: 40 }))
  fc.assert(fc.property(
    fc.record({
      topic: fc.string({ unit: 'binary', maxLength: 20 }),
      key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
      value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
      headers: fc.array(header, { maxLength: 10 }),
      timestamp: fc.option(fc.integer(), { nil: undefined }),
      receivedAt: fc.integer({ min: 0, max: NOW * 2 })
    }),
    anySettings,
    fc.constantFrom('${inputTopic}', 'x/${inputTopic.1}', 'x/${inputTopic.2}', '${bad', '#'),
    (record, s, destinationTopic) => {
      const [r] = translateKafkaToMqtt([record], s, mqttCtx({ destinationTopic }))
      if (r === undefined) return false
      if (!r.ok) return ['expired', 'invalid-topic'].includes(r.reason)
      const kept = r.message.properties.userProperties.length
      const removed = r.removedHeaders.nonUtf8 + r.removedHeaders.tooLarge
      // Every header is accounted for: a user property, a restored built-in, or counted as removed.
      return s.copyMqttProperties === 'Disabled' ? kept === 0 : kept + removed <= record.headers.length + 2
    }
  ), { numRuns: 1000 })
  t.pass()
})

t.test('no MQTT message crashes MQTT → Kafka: random topics, bytes and property values', async (t) => {
  fc.assert(fc.property(
    fc.record({
      topic: fc.string({ unit: 'binary', maxLength: 20 }),
      payload: fc.uint8Array({ maxLength: 40 }),
      properties: fc.record({
        payloadFormatIndicator: fc.constantFrom<boolean | 0 | 1>(true, false, 0, 1),
        messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
        contentType: fc.string({ unit: 'binary', maxLength: 10 }),
        responseTopic: fc.string({ unit: 'binary', maxLength: 10 }),
        correlationData: fc.uint8Array({ maxLength: 20 }),
        userProperties: fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 8 }),
        topicAlias: fc.integer({ min: 1, max: 65535 }),
        subscriptionIdentifier: fc.integer({ min: 1, max: 268435455 })
      }, { requiredKeys: [] }),
      receivedAt: fc.integer({ min: 0, max: NOW * 2 })
    }),
    anySettings,
    fc.integer({ min: -5, max: 100 }),
    fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
    fc.constantFrom('out', '${inputTopic}', 'p-${inputTopic.2}', '${x}'),
    (m, s, instanceId, count, destinationTopic) => {
      const [r] = translateMqttToKafka([m], s, ctx({ instanceId, destinationTopic, partitions: () => count }))
      if (r === undefined) return false
      if (!r.ok) return ['expired', 'invalid-topic'].includes(r.reason)
      const p = r.record.partition
      return p === undefined || (count !== undefined && p >= 0 && p < count)
    }
  ), { numRuns: 1000 })
  t.pass()
})

t.test('Kafka → MQTT keeps the order of UTF-8 headers, repeated names kept', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(userPropertyName, mqttString), { maxLength: 20 }), (pairs) => {
    const headers = pairs.map(([n, v]): [string, Uint8Array] => [n, new TextEncoder().encode(v)])
    const [r] = translateKafkaToMqtt([{ topic: 'k', key: null, value: null, headers }], {}, mqttCtx({ destinationTopic: 'm' }))
    return r !== undefined && r.ok && JSON.stringify(r.message.properties.userProperties) === JSON.stringify(pairs)
  }), { numRuns: 300 })
  t.pass()
})
