import t, { type Test } from 'tap'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { startIngress } from '../src/ingress.js'

// The split deployment's promise: a device's QoS 1 PUBACK means an egress instance (a shared-subscription member)
// has acknowledged the message — which it does only once Kafka has it — and its reason code reaches the device.

const quiet = pino({ level: 'silent' })

async function setup (t: Test, memberAnswer: (done: (code: number) => void) => void) {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, ackAfterSharedDelivery: true })
  t.teardown(() => ingress.close())
  const url = `mqtt://127.0.0.1:${ingress.mqtt.port}`
  const member = await connectAsync(url, { protocolVersion: 5, clientId: 'egress-0', customHandleAcks: (_topic, _message, _packet, done) => memberAnswer(done as (code: number) => void) })
  await member.subscribeAsync('$share/flowgate/factory/#', { qos: 1 })
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  t.teardown(async () => { await device.endAsync(true); await member.endAsync(true) })
  return { device }
}

t.test("the device's PUBACK waits for the share-group member's", async (t) => {
  let release!: (code: number) => void
  const answered = new Promise<void>((resolve) => { release = (code) => { pending!(code); resolve() } })
  let pending: ((code: number) => void) | undefined
  const { device } = await setup(t, (done) => { pending = done })
  let acked = false
  const publish = device.publishAsync('factory/oven', 'x', { qos: 1 }).then(() => { acked = true })
  for (let i = 0; i < 100 && pending === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.ok(pending, 'the member got the message')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(acked, false, 'no PUBACK for the device while the member has not acknowledged')
  release(0)
  await answered
  await publish
  t.equal(acked, true)
})

t.test("a member's refusal reaches the device as its reason code", async (t) => {
  const { device } = await setup(t, (done) => done(0x97))
  await t.rejects(device.publishAsync('factory/big', 'x', { qos: 1 }), { code: 0x97 })
})

t.test('publishes no shared group matches are acknowledged at once', async (t) => {
  const { device } = await setup(t, (done) => done(0))
  await device.publishAsync('office/door', 'open', { qos: 1 })
  t.pass('acknowledged')
})
