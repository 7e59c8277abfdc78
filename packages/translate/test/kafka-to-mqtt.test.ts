// The seed's table "Kafka endpoint is a dataflow source", the UTF-8 and ≥ 64 KB rules, and the built-in restore.
import t from 'tap'
import { translateKafkaToMqtt } from '../src/kafka-to-mqtt.js'
import type { KafkaMessage, ToMqttOk, TranslateSettings } from '../src/types.js'
import { enc, mqttCtx, NOW } from './helpers.js'

function one (m: Partial<KafkaMessage>, settings: TranslateSettings = {}): ToMqttOk {
  const [r] = translateKafkaToMqtt([{ topic: 'orders', key: null, value: enc('v'), headers: [], ...m }], settings, mqttCtx())
  if (r === undefined || !r.ok) throw new Error(`expected a message, got ${JSON.stringify(r)}`)
  return r
}

t.test('Key becomes user property "Key" with a copy of the record key', async (t) => {
  t.same(one({ key: enc('device-7') }).message.properties.userProperties, [['Key', 'device-7']])
})

t.test('Timestamp becomes user property "Timestamp": the record timestamp in ms since the Unix epoch, as text', async (t) => {
  t.same(one({ timestamp: 1_732_500_000_123 }).message.properties.userProperties, [['Timestamp', '1732500000123']])
})

t.test('Key and Timestamp come first, then the headers in order', async (t) => {
  const r = one({ key: enc('k'), timestamp: 5, headers: [['b', enc('2')], ['a', enc('1')], ['b', enc('3')]] })
  t.same(r.message.properties.userProperties, [['Key', 'k'], ['Timestamp', '5'], ['b', '2'], ['a', '1'], ['b', '3']])
})

t.test('a record without a key or timestamp gets no "Key" or "Timestamp"', async (t) => {
  t.same(one({}).message.properties.userProperties, [])
})

t.test('a key that is not UTF-8 gives no "Key" property, is counted, and the message still goes', async (t) => {
  const r = one({ key: new Uint8Array([0xff, 0xfe]), headers: [['h', enc('x')]] })
  t.same(r.message.properties.userProperties, [['h', 'x']])
  t.same(r.removedHeaders, { nonUtf8: 1, tooLarge: 0 })
})

t.test('UTF-8 headers become user properties directly, repeated names kept', async (t) => {
  t.same(one({ headers: [['foo', enc('bar')], ['foo', enc('baz')], ['ünï', enc('温度')]] }).message.properties.userProperties,
    [['foo', 'bar'], ['foo', 'baz'], ['ünï', '温度']])
})

t.test('a non-UTF-8 header is removed and counted; the rest of the message is forwarded', async (t) => {
  const r = one({ headers: [['ok1', enc('a')], ['bin', new Uint8Array([0xc3, 0x28])], ['ok2', enc('b')]] })
  t.same(r.message.properties.userProperties, [['ok1', 'a'], ['ok2', 'b']])
  t.same(r.removedHeaders, { nonUtf8: 1, tooLarge: 0 })
  t.equal(new TextDecoder().decode(r.message.payload), 'v')
})

t.test('a header holding U+0000 is removed as non-UTF-8 (an MQTT string may not carry it)', async (t) => {
  const r = one({ headers: [['nul', enc('xa\u0000b')]] }) // 0x78 'x' is no AMQP constructor
  t.same(r.message.properties.userProperties, [])
  t.same(r.removedHeaders, { nonUtf8: 1, tooLarge: 0 })
})

t.test('a header of 64 KB (65 536 bytes) or more is removed and counted; 65 535 bytes still go', async (t) => {
  const r = one({ headers: [['big', new Uint8Array(65_536).fill(0x61)], ['fits', new Uint8Array(65_535).fill(0x62)]] })
  t.same(r.message.properties.userProperties.map(([n, v]) => [n, v.length]), [['fits', 65_535]])
  t.same(r.removedHeaders, { nonUtf8: 0, tooLarge: 1 })
})

t.test('a header whose name is 64 KB or more is removed as too large', async (t) => {
  const r = one({ headers: [['n'.repeat(65_536), enc('v')]] })
  t.same(r.removedHeaders, { nonUtf8: 0, tooLarge: 1 })
})

t.test('Event Hubs AMQP header "foo" = 0xA1 0x03 "bar" arrives as user property "foo": "bar"', async (t) => {
  const r = one({ headers: [['foo', new Uint8Array([0xa1, 0x03, 0x62, 0x61, 0x72])]] })
  t.same(r.message.properties.userProperties, [['foo', 'bar']])
  t.equal(r.amqpDecoded, 1)
  t.same(r.removedHeaders, { nonUtf8: 0, tooLarge: 0 })
})

t.test('Event Hubs AMQP double "float-value" = 11.9 arrives as "11.9" instead of discarding the packet', async (t) => {
  const v = new Uint8Array(9); v[0] = 0x82; new DataView(v.buffer).setFloat64(1, 11.9)
  t.same(one({ headers: [['float-value', v]] }).message.properties.userProperties, [['float-value', '11.9']])
})

t.test('a UTF-8 value that also looks like an AMQP constructor stays text ("abc" is not a short)', async (t) => {
  const r = one({ headers: [['a', enc('abc')], ['b', enc('@')], ['c', enc('A')]] })
  t.same(r.message.properties.userProperties, [['a', 'abc'], ['b', '@'], ['c', 'A']])
  t.equal(r.amqpDecoded, 0)
})

t.test('an AMQP integer whose bytes are not an MQTT string (zero bytes) is decoded; one that reads as text stays text', async (t) => {
  const r = one({ headers: [['int', new Uint8Array([0x71, 0, 0, 1, 0])], ['smallint', new Uint8Array([0x54, 0x05])]] })
  t.same(r.message.properties.userProperties, [['int', '256'], ['smallint', 'T\u0005']])
  t.equal(r.amqpDecoded, 1)
})

t.test('"Content Type" header restores the MQTT Content Type', async (t) => {
  const r = one({ headers: [['Content Type', enc('application/json')]] })
  t.equal(r.message.properties.contentType, 'application/json')
  t.same(r.message.properties.userProperties, [])
})

t.test('"Correlation Data" header restores Correlation Data as raw bytes, even when not UTF-8', async (t) => {
  const r = one({ headers: [['Correlation Data', new Uint8Array([0, 0xff, 0x80])]] })
  t.same(Array.from(r.message.properties.correlationData!), [0, 0xff, 0x80])
  t.same(r.removedHeaders, { nonUtf8: 0, tooLarge: 0 })
})

t.test('"Response Topic" header restores the Response Topic (one with a wildcard stays a user property)', async (t) => {
  t.equal(one({ headers: [['Response Topic', enc('replies/1')]] }).message.properties.responseTopic, 'replies/1')
  const bad = one({ headers: [['Response Topic', enc('replies/#')]] })
  t.equal(bad.message.properties.responseTopic, undefined)
  t.same(bad.message.properties.userProperties, [['Response Topic', 'replies/#']])
})

t.test('"Payload Format Indicator" header "1"/"0" restores the indicator; another value stays a user property', async (t) => {
  t.equal(one({ headers: [['Payload Format Indicator', enc('1')]] }).message.properties.payloadFormatIndicator, true)
  t.equal(one({ headers: [['Payload Format Indicator', enc('0')]] }).message.properties.payloadFormatIndicator, false)
  t.same(one({ headers: [['Payload Format Indicator', enc('yes')]] }).message.properties.userProperties, [['Payload Format Indicator', 'yes']])
})

t.test('a second header with a built-in name stays a user property', async (t) => {
  const r = one({ headers: [['Content Type', enc('a/b')], ['Content Type', enc('c/d')]] })
  t.equal(r.message.properties.contentType, 'a/b')
  t.same(r.message.properties.userProperties, [['Content Type', 'c/d']])
})

t.test('copyMqttProperties Disabled: no user properties and no restored built-ins', async (t) => {
  const r = one({ key: enc('k'), timestamp: 1, headers: [['Content Type', enc('a/b')], ['x', enc('y')]] }, { copyMqttProperties: 'Disabled' })
  t.same(r.message.properties, { userProperties: [] })
})

t.test('QoS and retain come from the context (default QoS 1, not retained); a tombstone is an empty payload', async (t) => {
  const r = one({ value: null })
  t.equal(r.message.qos, 1)
  t.equal(r.message.retain, false)
  t.equal(r.message.payload.length, 0)
  const [q] = translateKafkaToMqtt([{ topic: 'o', key: null, value: enc(''), headers: [] }], {}, mqttCtx({ qos: 0, retain: true }))
  t.match(q, { ok: true, message: { qos: 0, retain: true } })
})

t.test('a restored Message Expiry Interval with no time waited is kept as is', async (t) => {
  t.equal(one({ headers: [['Message Expiry Interval', enc('60')]], receivedAt: NOW }).message.properties.messageExpiryInterval, 60)
})

t.test('a record of the wrong shape from a JavaScript caller is dropped as invalid-message, not thrown', async (t) => {
  const [r] = translateKafkaToMqtt([{ topic: 'a', key: 'k' as unknown as Uint8Array, value: null, headers: [] }], {}, mqttCtx())
  t.match(r, { ok: false, reason: 'invalid-message' })
})
