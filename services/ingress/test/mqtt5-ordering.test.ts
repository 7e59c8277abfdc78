import t from 'tap'
import { connectAsync } from 'mqtt'
import { conformance, fresh, recorder, until } from './mqtt5-brokers.js'

// Message ordering on a resumed session (MQTT 5.0 §4.6 [MQTT-4.6.0-6]: a topic's QoS 1 messages reach a subscriber in
// the order they were published): a persistent session is offline while messages queue for it; it resumes while the
// publisher goes on publishing. The live messages must not overtake the queued ones — aedes restored the
// subscriptions before draining the queue and wrote live deliveries in between (found by a Kafka → MQTT fault test:
// a device back after 30 s got its records out of order).

conformance(t, 'a resumed session gets its queued QoS 1 messages before the ones published while it resumes, in publish order', async (t, broker) => {
  const clientId = fresh('ordering')
  const topic = `${fresh('ordering')}/cmd`
  const first = await connectAsync(broker.url, { protocolVersion: 5, clientId, clean: true, reconnectPeriod: 0, properties: { sessionExpiryInterval: 3600 } })
  await first.subscribeAsync(topic, { qos: 1 })
  await first.endAsync()

  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(() => publisher.endAsync())
  await Promise.all(Array.from({ length: 500 }, (_, i) => publisher.publishAsync(topic, String(i), { qos: 1 })))
  // The session resumes while the next 500 are being published.
  const live = Array.from({ length: 500 }, (_, i) => publisher.publishAsync(topic, String(500 + i), { qos: 1 }))
  const again = await recorder(broker.url, { clientId, clean: false })
  t.teardown(() => again.client.endAsync())
  await Promise.all(live)
  await until(() => again.got.length >= 1000, `all 1,000 (${again.got.length} so far)`, 20_000)
  const seqs = again.got.map((p) => Number(p.payload.toString()))
  t.same(seqs, Array.from({ length: 1000 }, (_, i) => i), 'every message once, in publish order')
})
