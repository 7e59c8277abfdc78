import t from 'tap'
import { connectAsync } from 'mqtt'
import type { IConnackPacket, IPublishPacket } from 'mqtt-packet'
import { rawClient, connectPacket, type RawClient } from './raw-mqtt.js'
import { conformance, fresh, until, sleep, type Broker } from './mqtt5-brokers.js'

// Rule 4 of issue 17 — Receive Maximum (MQTT 5.0 §3.1.2.11.3, §4.9 Flow Control): the broker never has more QoS 1
// and 2 PUBLISHes awaiting PUBACK / PUBCOMP at a client than the Receive Maximum the client gave in its CONNECT
// [MQTT-3.3.4-9]; what is beyond waits, in order, until an acknowledgement frees a slot. A raw client: it does not
// acknowledge until told, and counts what is in flight.

const publishes = (c: RawClient): IPublishPacket[] => c.received.filter((p): p is IPublishPacket => p.cmd === 'publish')
const payloads = (c: RawClient): string[] => publishes(c).map((p) => p.payload.toString())
/** Long enough for a broker that sends past the window to have done so (a pass can only be wrong, never flaky). */
const SETTLE_MS = 400

async function publishAll (broker: Broker, topic: string, qos: 1 | 2, n: number): Promise<void> {
  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  for (let i = 1; i <= n; i++) await publisher.publishAsync(topic, `m${i}`, { qos })
  await publisher.endAsync()
}

async function subscriber (broker: Broker, clientId: string, topic: string, qos: 1 | 2, receiveMaximum: number, extra: Record<string, unknown> = {}): Promise<RawClient> {
  const c = await rawClient(broker.port)
  c.send({ ...connectPacket(clientId, { receiveMaximum, ...extra }) })
  await c.next('connack')
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] })
  await c.next('suback')
  return c
}

conformance(t, 'QoS 1: no more PUBLISHes in flight than the client\'s Receive Maximum; each PUBACK releases the next', async (t, broker) => {
  const topic = `${fresh('rm1')}/x`
  const c = await subscriber(broker, fresh('rm1'), topic, 1, 2)
  t.teardown(() => { c.socket.destroy() })
  await publishAll(broker, topic, 1, 5)
  await until(() => publishes(c).length >= 2, 'the first two deliveries', 10_000)
  await sleep(SETTLE_MS)
  t.same(payloads(c), ['m1', 'm2'], 'two in flight with Receive Maximum 2')
  c.send({ cmd: 'puback', messageId: publishes(c)[0]!.messageId })
  await until(() => publishes(c).length >= 3, 'a delivery after the PUBACK', 10_000)
  await sleep(SETTLE_MS)
  t.same(payloads(c), ['m1', 'm2', 'm3'], 'one PUBACK, one more')
  for (const p of publishes(c).slice(1)) c.send({ cmd: 'puback', messageId: p.messageId })
  await until(() => publishes(c).length >= 5, 'the rest', 10_000)
  t.same(payloads(c), ['m1', 'm2', 'm3', 'm4', 'm5'], 'all of them, in order')
}, { referenceDeviates: 'mosquitto 2.0.11 sends one PUBLISH more than the quota once a PUBACK replenished it' })

conformance(t, 'QoS 2: a PUBLISH stays in flight until its PUBCOMP (a PUBREC does not free the slot)', async (t, broker) => {
  const topic = `${fresh('rm2')}/x`
  const c = await subscriber(broker, fresh('rm2'), topic, 2, 1)
  t.teardown(() => { c.socket.destroy() })
  await publishAll(broker, topic, 2, 3)
  await until(() => publishes(c).length >= 1, 'the first delivery', 10_000)
  await sleep(SETTLE_MS)
  t.same(payloads(c), ['m1'], 'one in flight with Receive Maximum 1')
  const first = publishes(c)[0]!
  c.send({ cmd: 'pubrec', messageId: first.messageId })
  await until(() => c.received.some((p) => p.cmd === 'pubrel'), 'the PUBREL', 10_000)
  await sleep(SETTLE_MS)
  t.same(payloads(c), ['m1'], 'still one in flight after PUBREC')
  c.send({ cmd: 'pubcomp', messageId: first.messageId })
  await until(() => publishes(c).length >= 2, 'the next delivery after PUBCOMP', 10_000)
  await sleep(SETTLE_MS)
  t.same(payloads(c), ['m1', 'm2'], 'PUBCOMP released one slot')
})

conformance(t, 'a resumed session\'s queue is delivered within the Receive Maximum too', async (t, broker) => {
  const clientId = fresh('rm-q')
  const topic = `${fresh('rm-q')}/x`
  const first = await subscriber(broker, clientId, topic, 1, 10, { sessionExpiryInterval: 300 })
  first.send({ cmd: 'disconnect', reasonCode: 0 })
  await first.closed
  await publishAll(broker, topic, 1, 5)
  const c = await rawClient(broker.port)
  t.teardown(() => { c.socket.destroy() })
  c.send({ ...connectPacket(clientId, { receiveMaximum: 2, sessionExpiryInterval: 300 }), clean: false })
  t.equal((await c.next('connack') as IConnackPacket).sessionPresent, true)
  await until(() => publishes(c).length >= 2, 'the first two queued messages', 10_000)
  await sleep(SETTLE_MS)
  t.same(payloads(c), ['m1', 'm2'], 'two in flight with Receive Maximum 2')
  for (const p of publishes(c)) c.send({ cmd: 'puback', messageId: p.messageId })
  await until(() => publishes(c).length >= 4, 'two more after two PUBACKs', 10_000)
  await sleep(SETTLE_MS)
  t.same(payloads(c), ['m1', 'm2', 'm3', 'm4'], 'two PUBACKs, two more')
  for (const p of publishes(c).slice(2)) c.send({ cmd: 'puback', messageId: p.messageId })
  await until(() => publishes(c).length >= 5, 'the last', 10_000)
  t.same(payloads(c), ['m1', 'm2', 'm3', 'm4', 'm5'], 'all of them, in order')
}, { referenceDeviates: 'mosquitto 2.0.11 sends one PUBLISH more than the quota once a PUBACK replenished it' })
