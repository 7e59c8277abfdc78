import t from 'tap'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { startIngress } from '../src/ingress.js'
import type { PublishOutcome } from '../src/interceptor.js'

const quiet = pino({ level: 'silent' })

function deferred<T> (): { promise: Promise<T>, resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => { resolve = r })
  return { promise, resolve }
}

t.test('a QoS 1 PUBACK reaches the device only after the downstream outcome', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  const gate = deferred<PublishOutcome | void>()
  ingress.setInterceptor((_p, ack) => { void gate.promise.then((o) => ack.settle(o)); return true })
  const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => client.endAsync())
  let acked = false
  const publish = client.publishAsync('held/a', 'x', { qos: 1 }).then(() => { acked = true })
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(acked, false, 'no PUBACK while Kafka has not acknowledged')
  gate.resolve()
  await publish
  t.equal(acked, true, 'PUBACK once acknowledged')
})

t.test('PUBACKs keep the order of the PUBLISHes even when outcomes settle out of order', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  const gates = [deferred<void>(), deferred<void>(), deferred<void>()]
  let n = 0
  ingress.setInterceptor((_p, ack) => { void gates[n++]?.promise.then(() => ack.settle()); return true })
  const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => client.endAsync())
  const order: number[] = []
  const publishes = [0, 1, 2].map((i) => client.publishAsync('order/x', String(i), { qos: 1 }).then(() => order.push(i)))
  while (n < 3) await new Promise((resolve) => setTimeout(resolve, 10))
  gates[2]!.resolve(); gates[1]!.resolve()
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(order, [], 'nothing acknowledged while the first publish is outstanding')
  gates[0]!.resolve()
  await Promise.all(publishes)
  t.same(order, [0, 1, 2])
})

t.test('an MQTT 5 device learns why its publish was refused: reason code and reason string', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  ingress.setInterceptor((_p, ack) => { ack.settle({ reasonCode: 0x97, reasonString: 'Kafka refused the record: MESSAGE_TOO_LARGE' }); return true })
  const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => client.endAsync())
  let reasonString: string | undefined
  client.on('packetreceive', (packet) => { if (packet.cmd === 'puback') reasonString = packet.properties?.reasonString })
  const err = await client.publishAsync('big/x', 'x', { qos: 1 }).then(() => undefined, (e: Error & { code?: number }) => e)
  t.equal(err?.code, 0x97, 'PUBACK reason code 0x97 (quota exceeded)')
  t.equal(reasonString, 'Kafka refused the record: MESSAGE_TOO_LARGE', 'reason string carried to the device')
  t.equal(client.connected, true, 'the device stays connected')
})

t.test('a v3.1.1 device is acknowledged (the drop is counted downstream) and stays connected', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  ingress.setInterceptor((_p, ack) => { setImmediate(() => ack.settle({ reasonCode: 0x97, reasonString: 'too large' })); return true })
  const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 4 })
  t.teardown(() => client.endAsync())
  await client.publishAsync('big/y', 'x', { qos: 1 })
  t.equal(client.connected, true)
})

t.test('QoS 0 publishes reach the interceptor without waiting for it', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  const seen: string[] = []
  ingress.setInterceptor(({ packet }) => { seen.push(packet.topic); return true }) // never settles
  const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => client.endAsync())
  await client.publishAsync('fire/forget', 'x', { qos: 0 })
  for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.same(seen, ['fire/forget'], 'seen although the interceptor never settles')
})

for (const protocolVersion of [4, 5] as const) {
  for (const qos of [1, 2] as const) {
    t.test(`left unacknowledged (v${protocolVersion === 4 ? '3.1.1' : '5'}, QoS ${qos}): no acknowledgement; the device is disconnected and resends on its persistent session`, async (t) => {
      const ingress = await startIngress({ mqttPort: 0, logger: quiet })
      t.teardown(() => ingress.close())
      const seen: string[] = []
      // The first delivery is left unacknowledged (its dataflow stopped); the resend is taken and succeeds.
      ingress.setInterceptor(({ packet }, ack) => {
        seen.push(String(packet.payload))
        setImmediate(() => ack.settle(seen.length === 1 ? { unacknowledged: true, reasonString: 'dataflow-stopped' } : undefined))
        return true
      })
      const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion, clientId: `unacked-${protocolVersion}-${qos}`, clean: false, reconnectPeriod: 100, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}) })
      t.teardown(() => client.endAsync(true))
      let closes = 0
      let reasonCode: number | undefined
      client.on('close', () => closes++)
      client.on('packetreceive', (p) => { if (p.cmd === 'disconnect') reasonCode = p.reasonCode })
      await client.publishAsync('stopped/x', 'm1', { qos })
      t.ok(closes >= 1, 'the connection was closed instead of acknowledging')
      if (protocolVersion === 5) t.equal(reasonCode, 0x89, 'DISCONNECT 0x89 (Server busy)')
      t.same(seen, ['m1', 'm1'], 'the device resent the message, which was then acknowledged')
    })
  }
}

t.test('a PUBACK decided at once waits behind held PUBACKs of the same client [MQTT-4.6.0-2]', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  const gate = deferred<void>()
  // `held/…` is taken (and held until the gate opens); `other/…` is no dataflow's business: acknowledged at once.
  ingress.setInterceptor(({ packet }, ack) => {
    if (!packet.topic.startsWith('held/')) return false
    void gate.promise.then(() => ack.settle())
    return true
  })
  const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 4 })
  t.teardown(() => client.endAsync())
  const order: string[] = []
  const first = client.publishAsync('held/a', '1', { qos: 1 }).then(() => order.push('held'))
  const second = client.publishAsync('other/b', '2', { qos: 1 }).then(() => order.push('other'))
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(order, [], 'the not-taken publish is not acknowledged before the held one')
  gate.resolve()
  await Promise.all([first, second])
  t.same(order, ['held', 'other'])
})

t.test('a v3.1.1 QoS 2 publish with a final drop is answered (PUBREC, PUBCOMP) and the device stays connected', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  let seen = 0
  ingress.setInterceptor((_p, ack) => { seen++; setImmediate(() => ack.settle({ reasonCode: 0x97, reasonString: 'too-large' })); return true })
  const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 4, reconnectPeriod: 100 })
  t.teardown(() => client.endAsync())
  let closes = 0
  client.on('close', () => closes++)
  await client.publishAsync('big/q2', 'x', { qos: 2 })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(seen, 1, 'delivered once: no disconnect-and-resend loop')
  t.equal(closes, 0, 'the device stays connected')
})
