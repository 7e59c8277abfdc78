import t from 'tap'
import { connectAsync } from 'mqtt'
import { conformance, fresh, recorder, until, sleep } from './mqtt5-brokers.js'

// Rule 3 of issue 17 — publication expiry (MQTT 5.0 §3.3.2.3.3 Message Expiry Interval): a message that waits — in
// an offline session's queue or as a retained message — is delivered with its expiry interval reduced by the time it
// waited [MQTT-3.3.2-6], and not delivered at all once it expired [MQTT-3.3.2-5].

conformance(t, 'messages queued for an offline session: the expired one is dropped, the other arrives with the time waited taken off', async (t, broker) => {
  const clientId = fresh('expiry-q')
  const prefix = fresh('expiry-q')
  const first = await connectAsync(broker.url, { protocolVersion: 5, clientId, clean: true, reconnectPeriod: 0, properties: { sessionExpiryInterval: 300 } })
  await first.subscribeAsync(`${prefix}/+`, { qos: 1 })
  await first.endAsync()

  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  await publisher.publishAsync(`${prefix}/short`, 'short', { qos: 1, properties: { messageExpiryInterval: 1 } })
  await publisher.publishAsync(`${prefix}/long`, 'long', { qos: 1, properties: { messageExpiryInterval: 60 } })
  await publisher.publishAsync(`${prefix}/forever`, 'forever', { qos: 1 })
  await publisher.endAsync()
  await sleep(2200)

  // Resumed as the interoperability suite does: Clean Start 0, no Session Expiry Interval (see mqtt5-offline-queue).
  const again = await recorder(broker.url, { clientId, clean: false })
  t.teardown(() => again.client.endAsync())
  await until(() => again.got.some((p) => p.payload.toString() === 'forever'), 'the queued messages', 10_000).catch(() => {})
  await sleep(200)
  t.same(again.got.map((p) => p.payload.toString()), ['long', 'forever'], 'the expired message is not delivered [MQTT-3.3.2-5]')
  const long = again.got.find((p) => p.payload.toString() === 'long')
  const remaining = long?.properties?.messageExpiryInterval ?? 60
  t.ok(remaining >= 1 && remaining <= 58, `expiry reduced by the ≥ 2.2 s waited: ${remaining} [MQTT-3.3.2-6]`)
  t.equal(again.got.find((p) => p.payload.toString() === 'forever')?.properties?.messageExpiryInterval, undefined, 'no expiry where none was set')
})

conformance(t, 'retained messages: the expired one is not sent on subscribe, the other with the time waited taken off', async (t, broker) => {
  const prefix = fresh('expiry-r')
  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  await publisher.publishAsync(`${prefix}/short`, 'short', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } })
  await publisher.publishAsync(`${prefix}/long`, 'long', { qos: 1, retain: true, properties: { messageExpiryInterval: 60 } })
  await publisher.endAsync()
  await sleep(2200)

  const sub = await recorder(broker.url, { clientId: fresh('expiry-r') })
  t.teardown(() => sub.client.endAsync())
  await sub.client.subscribeAsync(`${prefix}/#`, { qos: 1 })
  await until(() => sub.got.length > 0, 'the retained message', 10_000).catch(() => {})
  await sleep(300)
  t.same(sub.got.map((p) => p.payload.toString()), ['long'], 'the expired retained message is not sent')
  const remaining = sub.got[0]?.properties?.messageExpiryInterval ?? 60
  t.ok(remaining >= 1 && remaining <= 58, `expiry reduced by the ≥ 2.2 s waited: ${remaining}`)
  t.equal(sub.got[0]?.retain, true, 'sent as retained')
})
