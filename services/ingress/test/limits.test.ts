import t from 'tap'
import fc from 'fast-check'
import mqttPacket from 'mqtt-packet'
import { connect } from 'node:net'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { startIngress } from '../src/ingress.js'
import type { PublishInterceptor } from '../src/interceptor.js'
import { rawClient, connectPacket } from './raw-mqtt.js'

// The broker's limits, hit by a client that ignores them: what keeps a gateway's memory bounded whatever devices do.

const quiet = pino({ level: 'silent' })
/** Holds every PUBACK, as the gateway does while Kafka is slow or down. */
const holdEverything: PublishInterceptor = () => true

t.test('the CONNACK advertises Receive Maximum and Maximum Packet Size; sending past Receive Maximum ends with DISCONNECT 0x93', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, limits: { receiveMaximum: 5 } })
  t.teardown(() => ingress.close())
  ingress.setInterceptor(holdEverything)
  const c = await rawClient(ingress.mqtt.port)
  c.send(connectPacket('greedy'))
  const connack = await c.next('connack') as mqttPacket.IConnackPacket
  t.equal(connack.properties?.receiveMaximum, 5)
  t.equal(connack.properties?.maximumPacketSize, 1024 * 1024, 'the default maximum: 1 MiB')
  for (let i = 1; i <= 6; i++) c.send({ cmd: 'publish', topic: 'factory/x', payload: Buffer.from(`m${i}`), qos: 1, messageId: i })
  const disconnect = await c.next('disconnect') as mqttPacket.IDisconnectPacket
  t.equal(disconnect.reasonCode, 0x93, 'Receive Maximum exceeded')
  await c.closed
})

t.test('a packet over the maximum size ends with DISCONNECT 0x95', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, limits: { maximumPacketSize: 2048 } })
  t.teardown(() => ingress.close())
  const c = await rawClient(ingress.mqtt.port)
  c.send(connectPacket('big'))
  await c.next('connack')
  c.send({ cmd: 'publish', topic: 'factory/x', payload: Buffer.alloc(4096, 1), qos: 1, messageId: 1 })
  t.equal((await c.next('disconnect') as mqttPacket.IDisconnectPacket).reasonCode, 0x95)
})

t.test('a message larger than a subscriber\'s own Maximum Packet Size is not sent to it; smaller ones are', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  const small = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5, properties: { maximumPacketSize: 512 } })
  t.teardown(() => small.endAsync())
  const got: string[] = []
  small.on('message', (_topic, payload) => got.push(payload.length > 100 ? 'big' : payload.toString()))
  await small.subscribeAsync('sizes/#', { qos: 1 })
  const publisher = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => publisher.endAsync())
  await publisher.publishAsync('sizes/a', Buffer.alloc(2000, 1), { qos: 1 })
  await publisher.publishAsync('sizes/b', 'small', { qos: 1 })
  while (got.length < 1) await new Promise((resolve) => setTimeout(resolve, 20))
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(got, ['small'], 'the 2000-byte message was dropped for this client only')
  t.equal(small.connected, true)
})

t.test('past the maximum number of connections a CONNECT gets 0x97 (v5) / 3 (3.1.1)', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, limits: { maxConnections: 2 } })
  t.teardown(() => ingress.close())
  const url = `mqtt://127.0.0.1:${ingress.mqtt.port}`
  const held = await Promise.all([connectAsync(url, { protocolVersion: 5 }), connectAsync(url, { protocolVersion: 5 })])
  t.teardown(() => Promise.all(held.map((c) => c.endAsync())))
  await t.rejects(connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 }), { code: 0x97 })
  await t.rejects(connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 }), { code: 3 })
})

t.test('200 connections flooding past Receive Maximum while every PUBACK is held: RSS stays flat', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, limits: { receiveMaximum: 16 } })
  t.teardown(() => ingress.close())
  // Keeps what it holds, as the gateway's buffer keeps a message until Kafka has it.
  const kept: Buffer[] = []
  ingress.setInterceptor(({ packet }) => { kept.push(packet.payload as Buffer); return true })
  t.teardown(() => { kept.length = 0 })
  const payload = Buffer.alloc(16 * 1024, 7)
  // Each connection pipelines 300 × 16 KB: 960 MB in all if the broker held what it was sent.
  const publishes = Buffer.concat([
    ...Array.from({ length: 300 }, (_, i) => mqttPacket.generate({ cmd: 'publish', topic: 'flood/x', payload, qos: 1, messageId: i + 1 } as never, { protocolVersion: 5 }))
  ])
  global.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 20)
  await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    const socket = connect(ingress.mqtt.port, '127.0.0.1')
    socket.on('error', () => {})
    socket.on('data', () => {})
    socket.write(mqttPacket.generate(connectPacket(`flood-${i}`) as never, { protocolVersion: 5 }))
    socket.write(publishes)
    await Promise.race([new Promise((resolve) => socket.once('close', resolve)), new Promise((resolve) => setTimeout(resolve, 15_000))])
    socket.destroy()
  }))
  clearInterval(sampler)
  const grewMb = (peak - before) / 1024 / 1024
  t.ok(grewMb < 250, `RSS grew ${grewMb.toFixed(0)} MB at its peak for 960 MB sent (bounded by 200 × 16 in flight)`)
  t.equal(ingress.broker.connectedClients, 0, 'every flooding connection was disconnected')
})

t.test('fuzz: random and mutated CONNECT packets never stop the broker serving others', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  const url = `mqtt://127.0.0.1:${ingress.mqtt.port}`
  const valid = mqttPacket.generate(connectPacket('fuzz', { sessionExpiryInterval: 10, authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from('x') }) as never, { protocolVersion: 5 })
  const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(valid.length)).map(([edits, cut]) => {
    const b = Buffer.from(valid)
    for (const [i, v] of edits) b[i] = v
    return b.subarray(0, Math.max(1, cut))
  })
  const random = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a))
  await fc.assert(fc.asyncProperty(fc.oneof(mutated, random), async (bytes) => {
    const socket = connect(ingress.mqtt.port, '127.0.0.1')
    socket.on('error', () => {})
    socket.on('data', () => {})
    socket.write(bytes)
    await new Promise((resolve) => setTimeout(resolve, 5))
    socket.destroy()
  }), { numRuns: 300 })
  const still = await connectAsync(url, { protocolVersion: 5 })
  await still.publishAsync('after/fuzz', 'ok', { qos: 1 })
  await still.endAsync()
  t.pass('a well-behaved device connects and publishes after 300 malformed CONNECTs')
})

t.test('held publishes past max-held-bytes pause the devices that publish (TCP back-pressure), and resume them when Kafka catches up', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: pino({ level: 'silent' }), limits: { maxHeldBytes: 16 * 1024 } })
  t.teardown(() => ingress.close())
  const held: Array<{ settle: () => void }> = []
  ingress.setInterceptor((_p, ack) => { held.push(ack); return true }) // Kafka "down": nothing settles
  const device = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 4 })
  t.teardown(() => device.endAsync(true))
  const payload = Buffer.alloc(1024, 'x')
  const publishes = Array.from({ length: 400 }, async (_, i) => await device.publishAsync('big/x', payload, { qos: 1 }).then(() => i))
  await new Promise((resolve) => setTimeout(resolve, 500))
  const whilePaused = held.length
  t.ok(whilePaused < 200, `the broker stopped reading: ${whilePaused} of 400 publishes (1 KiB) taken with a 16 KiB budget`)
  t.ok(whilePaused >= 16, 'publishes up to the budget were taken')
  // Kafka catches up: every held outcome settles, the device is read again, and the rest come through.
  const settleAll = setInterval(() => { for (const ack of held.splice(0)) ack.settle() }, 10)
  t.teardown(() => clearInterval(settleAll))
  t.equal((await Promise.all(publishes)).length, 400, 'every publish was taken and acknowledged after the resume')
})
