import t from 'tap'
import { connectAsync } from 'mqtt'
import type { IPublishPacket } from 'mqtt-packet'
import { rawClient, connectPacket, type RawClient } from './raw-mqtt.js'
import { conformance, fresh, until, sleep } from './mqtt5-brokers.js'

// Rule 5 of issue 17 — the client's Maximum Packet Size (MQTT 5.0 §3.1.2.11.4): the broker never sends a client a
// packet larger than the client's Maximum Packet Size [MQTT-3.1.2-24]; a message too large for it is discarded for that
// client, as if sent [MQTT-3.1.2-25], and the connection stays up. A raw client sees what is really on the wire.

const MAX = 256
const big = Buffer.alloc(1000, 0x61)
const publishes = (c: RawClient): IPublishPacket[] => c.received.filter((p): p is IPublishPacket => p.cmd === 'publish')

conformance(t, 'live messages larger than the subscriber\'s Maximum Packet Size are not sent to it (QoS 0, 1, 2); the others are', async (t, broker) => {
  const topic = `${fresh('mps')}/x`
  const c = await rawClient(broker.port)
  t.teardown(() => { c.socket.destroy() })
  c.send(connectPacket(fresh('small'), { maximumPacketSize: MAX }))
  await c.next('connack')
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 2 }] })
  await c.next('suback')
  c.socket.on('data', (chunk: Buffer) => { if (chunk.length > MAX) largest = Math.max(largest, chunk.length) })
  let largest = 0
  const other = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  const otherGot: number[] = []
  other.on('message', (_t, payload) => otherGot.push(payload.length))
  await other.subscribeAsync(topic, { qos: 1 })
  t.teardown(() => other.endAsync())
  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(() => publisher.endAsync())
  for (const qos of [0, 1, 2] as const) {
    await publisher.publishAsync(topic, big, { qos })
    await publisher.publishAsync(topic, `small${qos}`, { qos })
  }
  await until(() => publishes(c).length >= 3, 'the small messages', 10_000).catch(() => {})
  for (const p of publishes(c)) if (p.qos === 1) c.send({ cmd: 'puback', messageId: p.messageId })
  await sleep(300)
  t.same(publishes(c).map((p) => p.payload.length > 100 ? 'big' : p.payload.toString()), ['small0', 'small1', 'small2'], 'only the small ones')
  t.equal(largest, 0, `no packet over ${MAX} bytes on the wire`)
  t.equal(c.socket.destroyed, false, 'the connection stays up')
  await until(() => otherGot.length >= 6, 'the other subscriber\'s messages', 10_000).catch(() => {})
  t.equal(otherGot.filter((n) => n === big.length).length, 3, 'a subscriber without the limit still gets the big ones')
})

conformance(t, 'the limit is the exact encoded size: a PUBLISH of exactly the Maximum Packet Size is sent, one byte more is not', async (t, broker) => {
  const topic = `${fresh('mps-x')}/x`
  const c = await rawClient(broker.port)
  t.teardown(() => { c.socket.destroy() })
  c.send(connectPacket(fresh('exact'), { maximumPacketSize: MAX }))
  await c.next('connack')
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] })
  await c.next('suback')
  // As delivered at QoS 1: fixed header (1) + remaining length (2 bytes past 127) + topic (2 + n) + packet
  // identifier (2) + property length (1, no properties) + payload.
  const payloadFor = (size: number): number => size - (1 + 2 + 2 + Buffer.byteLength(topic) + 2 + 1)
  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(() => publisher.endAsync())
  await publisher.publishAsync(topic, Buffer.alloc(payloadFor(MAX + 1), 0x62), { qos: 1 })
  await publisher.publishAsync(topic, Buffer.alloc(payloadFor(MAX), 0x61), { qos: 1 })
  await publisher.publishAsync(topic, 'last', { qos: 1 })
  await until(() => publishes(c).some((p) => p.payload.toString() === 'last'), 'the last message', 10_000).catch(() => {})
  t.same(publishes(c).map((p) => p.payload.length > 10 ? `${p.payload.length + (MAX - payloadFor(MAX))} bytes` : p.payload.toString()), [`${MAX} bytes`, 'last'], `the ${MAX}-byte PUBLISH arrives, the ${MAX + 1}-byte one does not`)
}, { referenceDeviates: 'mosquitto 2.0.11 leaves the fixed header\'s first byte out of the size it compares' })

conformance(t, 'a retained message and a queued message too large for the client are discarded for it; the rest is delivered', async (t, broker) => {
  const prefix = fresh('mps-q')
  const clientId = fresh('mps-q')
  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(() => publisher.endAsync())
  await publisher.publishAsync(`${prefix}/retained/big`, big, { qos: 1, retain: true })
  await publisher.publishAsync(`${prefix}/retained/small`, 'r-small', { qos: 1, retain: true })

  const first = await rawClient(broker.port)
  first.send(connectPacket(clientId, { maximumPacketSize: MAX, sessionExpiryInterval: 300 }))
  await first.next('connack')
  first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${prefix}/#`, qos: 1 }] })
  await first.next('suback')
  await until(() => publishes(first).length >= 1, 'the small retained message', 10_000).catch(() => {})
  await sleep(300)
  t.same(publishes(first).map((p) => p.payload.length > 100 ? 'big' : p.payload.toString()), ['r-small'], 'retained: only the small one')
  for (const p of publishes(first)) first.send({ cmd: 'puback', messageId: p.messageId })
  first.send({ cmd: 'disconnect', reasonCode: 0 })
  await first.closed

  await publisher.publishAsync(`${prefix}/q`, big, { qos: 1 })
  await publisher.publishAsync(`${prefix}/q`, 'q-small', { qos: 1 })
  const again = await rawClient(broker.port)
  t.teardown(() => { again.socket.destroy() })
  again.send({ ...connectPacket(clientId, { maximumPacketSize: MAX, sessionExpiryInterval: 300 }), clean: false })
  await again.next('connack')
  await until(() => publishes(again).length >= 1, 'the small queued message', 10_000).catch(() => {})
  await sleep(300)
  t.same(publishes(again).map((p) => p.payload.length > 100 ? 'big' : p.payload.toString()), ['q-small'], 'queued: only the small one')
  t.equal(again.socket.destroyed, false, 'the connection stays up')
})
