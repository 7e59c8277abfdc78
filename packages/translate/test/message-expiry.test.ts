// The seed's "Message Expiry Interval property" section and its two examples, in both directions.
import t from 'tap'
import { remainingExpiry } from '../src/message-expiry.js'
import { translateKafkaToMqtt } from '../src/kafka-to-mqtt.js'
import { translateMqttToKafka } from '../src/mqtt-to-kafka.js'
import { ctx, enc, mqttCtx, NOW, textHeaders } from './helpers.js'

const mei = (seconds: number, waitedMs: number) => translateMqttToKafka(
  [{ topic: 't', payload: enc('x'), properties: { messageExpiryInterval: seconds }, receivedAt: NOW - waitedMs }], {}, ctx())[0]!

t.test('seed example: 3600 s interval, 1000 s waiting for the destination → sent with 2600 s', async (t) => {
  const r = mei(3600, 1_000_000)
  t.ok(r.ok)
  if (r.ok) t.same(textHeaders(r.record.headers), [['Message Expiry Interval', '2600']])
})

t.test('seed example: 3600 s interval, 4000 s waiting for the destination → expired, not forwarded', async (t) => {
  t.match(mei(3600, 4_000_000), { ok: false, reason: 'expired' })
})

t.test('remaining exactly 0 is expired (the seed: "<= 0")', async (t) => {
  t.match(mei(10, 10_000), { ok: false, reason: 'expired' })
})

t.test('time waited counts in whole seconds, rounded down', async (t) => {
  t.same(remainingExpiry(10, NOW - 9_999, NOW), { expired: false, remaining: 1 })
  t.same(remainingExpiry(10, NOW - 999, NOW), { expired: false, remaining: 10 })
  t.match(remainingExpiry(10, NOW - 10_000, NOW), { expired: true })
})

t.test('a message without an interval never expires, however long it waited', async (t) => {
  t.same(remainingExpiry(undefined, 0, NOW), { expired: false, remaining: undefined })
  t.ok(translateMqttToKafka([{ topic: 't', payload: enc('x'), receivedAt: 0 }], {}, ctx())[0]!.ok)
})

t.test('a clock that went backwards counts as no wait', async (t) => {
  t.same(remainingExpiry(30, NOW + 5_000, NOW), { expired: false, remaining: 30 })
})

t.test('expiry applies with copyMqttProperties Disabled too', async (t) => {
  const [r] = translateMqttToKafka([{ topic: 't', payload: enc('x'), properties: { messageExpiryInterval: 5 }, receivedAt: NOW - 6_000 }], { copyMqttProperties: 'Disabled' }, ctx())
  t.match(r, { ok: false, reason: 'expired' })
})

t.test('Kafka → MQTT: a "Message Expiry Interval" header restores the interval, reduced by the time waited', async (t) => {
  const [r] = translateKafkaToMqtt([{ topic: 'k', key: null, value: enc('x'), headers: [['Message Expiry Interval', enc('3600')]], receivedAt: NOW - 1_000_000 }], {}, mqttCtx())
  t.ok(r?.ok)
  if (r?.ok) t.equal(r.message.properties.messageExpiryInterval, 2600)
})

t.test('Kafka → MQTT: a record whose restored interval has run out is dropped as expired', async (t) => {
  const [r] = translateKafkaToMqtt([{ topic: 'k', key: null, value: enc('x'), headers: [['Message Expiry Interval', enc('3600')]], receivedAt: NOW - 4_000_000 }], {}, mqttCtx())
  t.match(r, { ok: false, reason: 'expired' })
})
