// The seed's table "Kafka endpoint is a destination", one test per row, and the rules around it.
import t from 'tap'
import { translateMqttToKafka } from '../src/mqtt-to-kafka.js'
import type { MqttMessage, ToKafkaOk, TranslateSettings } from '../src/types.js'
import { ctx, enc, NOW, textHeaders } from './helpers.js'

function record (m: Partial<MqttMessage>, settings: TranslateSettings = {}): ToKafkaOk['record'] {
  const [r] = translateMqttToKafka([{ topic: 'sensors/oven', payload: enc('{"t":21}'), receivedAt: NOW, ...m }], settings, ctx())
  if (r === undefined || !r.ok) throw new Error(`expected a record, got ${JSON.stringify(r)}`)
  return r.record
}

t.test('Payload Format Indicator becomes header "Payload Format Indicator": "1" (payload is UTF-8)', async (t) => {
  t.same(textHeaders(record({ properties: { payloadFormatIndicator: true } }).headers), [['Payload Format Indicator', '1']])
  t.same(textHeaders(record({ properties: { payloadFormatIndicator: 1 } }).headers), [['Payload Format Indicator', '1']])
})

t.test('Payload Format Indicator becomes header "Payload Format Indicator": "0" (payload is bytes)', async (t) => {
  t.same(textHeaders(record({ properties: { payloadFormatIndicator: false } }).headers), [['Payload Format Indicator', '0']])
  t.same(textHeaders(record({ properties: { payloadFormatIndicator: 0 } }).headers), [['Payload Format Indicator', '0']])
})

t.test('Response Topic becomes header "Response Topic" with a copy of the response topic', async (t) => {
  t.same(textHeaders(record({ properties: { responseTopic: 'replies/oven/1' } }).headers), [['Response Topic', 'replies/oven/1']])
})

t.test('Message Expiry Interval becomes header "Message Expiry Interval": the remaining seconds as UTF-8 text', async (t) => {
  t.same(textHeaders(record({ properties: { messageExpiryInterval: 3600 }, receivedAt: NOW - 10_000 }).headers), [['Message Expiry Interval', '3590']])
})

t.test('Correlation Data becomes header "Correlation Data" with the raw bytes, even when they are not UTF-8', async (t) => {
  const bytes = new Uint8Array([0x00, 0xff, 0xfe, 0x80, 0x41])
  const h = record({ properties: { correlationData: bytes } }).headers
  t.same(h.map(([n]) => n), ['Correlation Data'])
  t.same(Array.from(h[0]![1]), Array.from(bytes))
})

t.test('Content Type becomes header "Content Type" with a copy of the content type', async (t) => {
  t.same(textHeaders(record({ properties: { contentType: 'application/json' } }).headers), [['Content Type', 'application/json']])
})

t.test('user properties become headers in order, repeated names kept', async (t) => {
  const h = record({ properties: { userProperties: [['subject', 'oven-1'], ['tag', 'a'], ['zone', 'z1'], ['tag', 'b']] } }).headers
  t.same(textHeaders(h), [['subject', 'oven-1'], ['tag', 'a'], ['zone', 'z1'], ['tag', 'b']])
})

t.test("user properties in mqtt.js' object shape are accepted too", async (t) => {
  const props = { userProperties: { tag: ['a', 'b'], zone: 'z1' } as unknown as Array<[string, string]> }
  t.same(textHeaders(record({ properties: props }).headers), [['tag', 'a'], ['tag', 'b'], ['zone', 'z1']])
})

t.test('all built-ins and user properties together: built-ins first in the seed table order, then user properties', async (t) => {
  const h = record({
    properties: {
      contentType: 'text/plain',
      correlationData: enc('c-1'),
      messageExpiryInterval: 60,
      responseTopic: 'r/1',
      payloadFormatIndicator: true,
      userProperties: [['u', '1']]
    }
  }).headers
  t.same(textHeaders(h), [
    ['Payload Format Indicator', '1'], ['Response Topic', 'r/1'], ['Message Expiry Interval', '60'],
    ['Correlation Data', 'c-1'], ['Content Type', 'text/plain'], ['u', '1']
  ])
})

t.test('a user property named like a built-in is written after the built-in (the seed leaves it undefined)', async (t) => {
  const h = record({ properties: { contentType: 'a/b', userProperties: [['Content Type', 'c/d']] } }).headers
  t.same(textHeaders(h), [['Content Type', 'a/b'], ['Content Type', 'c/d']])
})

t.test('Topic Alias and Subscription Identifier are never forwarded', async (t) => {
  t.same(record({ properties: { topicAlias: 5, subscriptionIdentifier: [1, 2] } }).headers, [])
})

t.test('copyMqttProperties Disabled: no headers at all from properties', async (t) => {
  const r = record({
    properties: { contentType: 'a/b', payloadFormatIndicator: true, correlationData: enc('x'), responseTopic: 'r', messageExpiryInterval: 9, userProperties: [['u', '1']] }
  }, { copyMqttProperties: 'Disabled' })
  t.same(r.headers, [])
})

t.test('copyMqttProperties defaults to Enabled', async (t) => {
  t.same(textHeaders(record({ properties: { userProperties: [['u', '1']] } }).headers), [['u', '1']])
})

t.test('the payload becomes the record value unchanged, the destination topic the record topic', async (t) => {
  const payload = new Uint8Array([0, 1, 2, 255])
  const r = record({ payload })
  t.same(Array.from(r.value), [0, 1, 2, 255])
  t.equal(r.topic, 'telemetry')
})

t.test('a message of the wrong shape from a JavaScript caller is dropped as invalid-message, not thrown', async (t) => {
  const [r] = translateMqttToKafka([{ topic: 'a', payload: 'text' as unknown as Uint8Array }], {}, ctx())
  t.match(r, { ok: false, reason: 'invalid-message' })
})

t.test('a wrong setting throws FG_ERR_TRANSLATE_SETTINGS', async (t) => {
  t.throws(() => translateMqttToKafka([], { partitionStrategy: 'Random' as 'Default' }, ctx()), { code: 'FG_ERR_TRANSLATE_SETTINGS' })
})
