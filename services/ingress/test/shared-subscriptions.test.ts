import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync, type MqttClient, type IClientOptions } from 'mqtt'
import { pino } from 'pino'
import { startIngress } from '../src/ingress.js'
import { parseSharedTopic } from '../src/shared-subscriptions.js'

const quiet = pino({ level: 'silent' })
const MOSQUITTO = '/usr/sbin/mosquitto'

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)) })
    s.on('error', reject)
  })
}

interface Broker { url: string, close: () => Promise<void> }

async function embedded (): Promise<Broker> {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  return { url: `mqtt://127.0.0.1:${ingress.mqtt.port}`, close: () => ingress.close() }
}

async function mosquitto (): Promise<Broker> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fg-mosq-'))
  const conf = join(dir, 'mosquitto.conf')
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`)
  const proc: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    try { const c = await connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 }); await c.endAsync(); break } catch { await sleep(50) }
  }
  return { url: `mqtt://127.0.0.1:${port}`, close: async () => { proc.kill('SIGTERM'); await new Promise((resolve) => proc.once('exit', resolve)) } }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function until (check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** A share-group member that records what it received and, unless `hold`, acknowledges at once. */
async function member (url: string, clientId: string, hold = false, extra: IClientOptions = {}): Promise<{ client: MqttClient, got: string[], acked: string[] }> {
  const got: string[] = []
  const acked: string[] = []
  const client = await connectAsync(url, {
    protocolVersion: 5,
    clientId,
    reconnectPeriod: 0,
    customHandleAcks (_topic, message, _packet, done) {
      got.push(message.toString())
      if (!hold) { acked.push(message.toString()); done(0) }
    },
    ...extra
  })
  await client.subscribeAsync('$share/egress/split/#', { qos: 1 })
  return { client, got, acked }
}

const brokers: Array<[string, () => Promise<Broker>]> = [['embedded broker (aedes)', embedded]]
if (existsSync(MOSQUITTO)) brokers.push(['Mosquitto 2.0', mosquitto])

for (const [name, start] of brokers) {
  t.test(`${name}: each message goes to one member of the group, spread over both`, async (t) => {
    const broker = await start()
    t.teardown(() => broker.close())
    const a = await member(broker.url, 'share-a')
    const b = await member(broker.url, 'share-b')
    const device = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'device-1' })
    t.teardown(() => { for (const c of [a.client, b.client, device]) c.end(true) })
    const N = 200
    for (let i = 0; i < N; i++) await device.publishAsync(`split/t/${i % 3}`, String(i), { qos: 1 })
    await until(() => a.got.length + b.got.length >= N, 'all messages')
    await sleep(200)
    const all = [...a.got, ...b.got]
    t.equal(all.length, N, 'no message delivered twice')
    t.equal(new Set(all).size, N, 'every message delivered')
    t.ok(a.got.length > N / 4 && b.got.length > N / 4, `both members got a share (${a.got.length} / ${b.got.length})`)
    await Promise.all([device.endAsync(), a.client.endAsync(), b.client.endAsync()])
  })

  t.test(`${name}: messages a member held unacknowledged when it died still arrive (at-least-once)`, async (t) => {
    const broker = await start()
    t.teardown(() => broker.close())
    const session = { clean: false, properties: { sessionExpiryInterval: 300 } }
    const a = await member(broker.url, 'keep-a', false, session)
    const b = await member(broker.url, 'keep-b', true, session)
    const device = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'device-2' })
    t.teardown(() => { for (const c of [a.client, b.client, device]) c.end(true) })
    const N = 100
    for (let i = 0; i < N / 2; i++) await device.publishAsync('split/x', String(i), { qos: 1 })
    // mqtt.js reads no further while a PUBACK is held, so the holding member stops at its first message; the rest
    // of its share sits unacknowledged in its socket.
    await until(() => a.got.length >= N / 4 && b.got.length >= 1, 'first half delivered')
    await sleep(200)
    t.ok(b.got.length > 0, 'the doomed member holds unacknowledged messages')
    b.client.stream.destroy()
    b.client.end(true)
    for (let i = N / 2; i < N; i++) await device.publishAsync('split/x', String(i), { qos: 1 })
    // It comes back with the same session (as a restarted egress does): whatever the broker did not hand to
    // another member is sent to it again.
    const back = await member(broker.url, 'keep-b', false, session)
    t.teardown(() => back.client.end(true))
    await until(() => new Set([...a.acked, ...back.acked]).size >= N, `all ${N} acknowledged (a ${a.acked.length}, b ${back.acked.length})`)
    const acked = [...a.acked, ...back.acked]
    t.equal(new Set(acked).size, N, 'every message acknowledged by some member')
    t.comment(`duplicates across members: ${acked.length - N}`)
    await Promise.all([device.endAsync(), a.client.endAsync(), back.client.endAsync()])
  })
}

t.test('embedded broker: a malformed share name is refused, a good one is granted at most QoS 1', async (t) => {
  const broker = await embedded()
  t.teardown(() => broker.close())
  const c = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(() => c.end(true))
  const connack = (c as unknown as { connackPacket?: { properties?: { sharedSubscriptionAvailable?: boolean } } }).connackPacket
  t.equal(connack?.properties?.sharedSubscriptionAvailable, true, 'CONNACK advertises shared subscriptions')
  const granted = await c.subscribeAsync({ '$share/g/y': { qos: 2 }, '$share/g/z': { qos: 0 } })
  t.same(granted.map((g) => g.qos), [1, 0])
  t.equal(parseSharedTopic('$share/g+/x'), undefined, 'wildcards in the share name are malformed')
  t.same(parseSharedTopic('$share/grp/a/+/b'), { group: 'grp', filter: 'a/+/b' })
  t.equal(parseSharedTopic('$share/grp'), undefined)
  await c.endAsync()
})

t.test('embedded broker: messages published while the group has no member wait for one', async (t) => {
  const broker = await embedded()
  t.teardown(() => broker.close())
  const first = await member(broker.url, 'wait-a')
  await first.client.endAsync()
  const device = await connectAsync(broker.url, { protocolVersion: 5 })
  for (let i = 0; i < 10; i++) await device.publishAsync('split/w', String(i), { qos: 1 })
  const later = await member(broker.url, 'wait-b')
  await until(() => later.got.length >= 10, 'queued messages')
  t.same(later.got, Array.from({ length: 10 }, (_, i) => String(i)), 'in order')
  await Promise.all([device.endAsync(), later.client.endAsync()])
})

t.test('shared groups are bounded: past maxGroups a new group is refused with 0x97; waiting bytes past maxQueuedBytes (across groups) drop the oldest (counted)', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, sharedSubscriptions: { maxGroups: 2, maxQueuedBytes: 3000 } })
  t.teardown(() => ingress.close())
  const url = `mqtt://127.0.0.1:${ingress.mqtt.port}`
  const member = await connectAsync(url, { protocolVersion: 5, clientId: 'member' })
  await member.subscribeAsync('$share/a/bounded/#', { qos: 1 })
  await member.subscribeAsync('$share/b/bounded/#', { qos: 1 })
  await t.rejects(member.subscribeAsync('$share/c/bounded/#', { qos: 1 }), /Quota exceeded/, 'a third group is refused: 0x97')
  t.equal(ingress.shared.refusedGroups, 1)
  // The member leaves group a: its messages now wait there, up to 3000 bytes across groups.
  await member.unsubscribeAsync('$share/a/bounded/#')
  await member.unsubscribeAsync('$share/b/bounded/#')
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  // Each QoS 1 message waits in both groups (a and b): 8 × 1000 bytes offered, 3000 kept.
  for (let i = 0; i < 4; i++) await device.publishAsync('bounded/y', Buffer.alloc(1000, i), { qos: 1 })
  // Each waiting message costs its payload, its topic and a fixed overhead (~1400 bytes here): two fit.
  t.ok(ingress.shared.queuedBytes <= 3000 && ingress.shared.queuedBytes > 2000, `at most 3000 bytes wait (${ingress.shared.queuedBytes})`)
  t.equal(ingress.shared.dropped, 6, 'the oldest six copies were dropped and counted')
  await device.endAsync(true)
  await member.endAsync(true)
})
