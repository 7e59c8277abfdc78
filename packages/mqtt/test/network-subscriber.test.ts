import t, { type Test } from 'tap'
import { connectAsync } from 'mqtt'
import { startMosquitto } from '@flowgate/testkit'
import { mqttClientOptions } from '../src/client-options.js'
import { subscribeOverNetwork, type AckOutcome, type NetworkSubscriberOptions, type ReceivedMessage } from '../src/network-subscriber.js'

// The subscriber against a real broker (Debian's Mosquitto, persistent sessions): what the broker saw acknowledged
// is never delivered again, everything else is — after a restart of the subscriber, through its kept session.

const silent = { info () {}, warn () {}, error () {} }

function options (port: number, accept: NetworkSubscriberOptions['accept'], extra: Partial<NetworkSubscriberOptions> = {}): NetworkSubscriberOptions {
  const clientId = 'subscriber-under-test'
  return {
    setup: mqttClientOptions({ host: `127.0.0.1:${port}`, tls: { mode: 'Disabled' } }, {}, { clientId }),
    clientId,
    filters: ['in/#'],
    endpoint: 'ns/src',
    keepAliveSeconds: 30,
    sessionExpirySeconds: 600,
    reconnectMinMs: 100,
    reconnectDelay: () => 100,
    drainMs: 100,
    accept,
    logger: silent,
    ...extra
  }
}

async function until (check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Publishes QoS 1 messages to `in/x` as a device would; resolves when the broker has them all. */
async function publish (t: Test, port: number, payloads: string[]): Promise<void> {
  const device = await connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, clientId: `device-${Math.random().toString(16).slice(2)}` })
  t.teardown(() => device.endAsync())
  for (const p of payloads) await device.publishAsync('in/x', p, { qos: 1 })
}

/** A subscriber whose outcomes the test settles by payload; `received` lists payloads in arrival order. */
async function gated (port: number): Promise<{ received: string[], settle: (payload: string, outcome?: AckOutcome) => void, close: () => Promise<void> }> {
  const received: string[] = []
  const gates = new Map<string, (o: AckOutcome) => void>()
  const sub = await subscribeOverNetwork(options(port, async (m: ReceivedMessage) => {
    const text = Buffer.from(m.payload).toString()
    received.push(text)
    return await new Promise<AckOutcome>((resolve) => gates.set(text, resolve))
  }))
  return { received, settle: (payload, outcome = {}) => gates.get(payload)!(outcome), close: () => sub.close() }
}

/** Every payload delivered by a fresh start of the same session, acknowledged at once. */
async function redelivered (t: Test, port: number, expectAtLeast: number): Promise<string[]> {
  const again: string[] = []
  const sub = await subscribeOverNetwork(options(port, async (m) => { again.push(Buffer.from(m.payload).toString()); return {} }))
  t.teardown(() => sub.close())
  await until(() => again.length >= expectAtLeast, `${expectAtLeast} messages again`)
  // Whatever else the session held would have come with these.
  await new Promise((resolve) => setTimeout(resolve, 300))
  return again
}

t.test('a settled message is acknowledged; one whose outcome never settled comes again after a restart', async (t) => {
  const broker = await startMosquitto(t)
  const first = await gated(broker.port)
  await publish(t, broker.port, ['settled', 'pending'])
  await until(() => first.received.length === 2, 'both messages')
  first.settle('settled')
  await new Promise((resolve) => setTimeout(resolve, 200))
  await first.close()
  t.same(await redelivered(t, broker.port, 1), ['pending'])
})

t.test('PUBACKs leave in arrival order: a later message settled first waits for the earlier one', async (t) => {
  const broker = await startMosquitto(t)
  const first = await gated(broker.port)
  await publish(t, broker.port, ['one', 'two', 'three'])
  await until(() => first.received.length === 3, 'three messages')
  // 'three' and 'two' are done, 'one' is not: no PUBACK may leave, so the broker still holds all three.
  first.settle('three')
  first.settle('two')
  await new Promise((resolve) => setTimeout(resolve, 200))
  await first.close()
  t.same(await redelivered(t, broker.port, 3), ['one', 'two', 'three'])
})

t.test('an outcome left unacknowledged (stopping) sends no PUBACK; a refusal does (the broker drops the message)', async (t) => {
  const broker = await startMosquitto(t)
  const first = await gated(broker.port)
  await publish(t, broker.port, ['refused', 'stopping'])
  await until(() => first.received.length === 2, 'both messages')
  first.settle('refused', { reasonCode: 0x80, reasonString: 'too large' })
  first.settle('stopping', { unacknowledged: true })
  await new Promise((resolve) => setTimeout(resolve, 200))
  await first.close()
  t.same(await redelivered(t, broker.port, 1), ['stopping'])
})

t.test('credentials the broker refuses on the first connection fail the start with FG_ERR_MQTT_AUTH_FAILED', async (t) => {
  const broker = await startMosquitto(t, { user: { username: 'egress', password: 'right' } })
  const errors: string[] = []
  const logger = { ...silent, error: (_o: object, msg: string) => { errors.push(msg) } }
  const clientId = 'refused-subscriber'
  const setup = mqttClientOptions({ host: `127.0.0.1:${broker.port}`, tls: { mode: 'Disabled' }, authentication: { method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 's' } } },
    { usernamePassword: { username: 'egress', password: 'wrong' } }, { clientId })
  await t.rejects(subscribeOverNetwork(options(broker.port, async () => ({}), { setup, clientId, logger })), { code: 'FG_ERR_MQTT_AUTH_FAILED', permanent: true })
  t.same(errors, ['the MQTT source refused this egress\' credentials'], 'logged as an error someone has to fix')
  // The right ones connect.
  const right = mqttClientOptions({ host: `127.0.0.1:${broker.port}`, tls: { mode: 'Disabled' }, authentication: { method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 's' } } },
    { usernamePassword: { username: 'egress', password: 'right' } }, { clientId })
  const sub = await subscribeOverNetwork(options(broker.port, async () => ({}), { setup: right, clientId }))
  await sub.close()
})
