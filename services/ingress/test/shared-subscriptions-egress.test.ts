import t, { type Test } from 'tap'
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { startIngress } from '../src/ingress.js'

// The split deployment's promise for ANY egress subscription, plain or shared: a device's QoS 1 PUBACK means an
// egress acknowledged the message. An egress says what it is in its CONNECT (user property `flowgate-role: egress`);
// its plain subscriptions then hold PUBACKs as a share group with itself as the only member does — also while it is
// away — and after the ingress starts, publishes wait for the egress subscriptions to come back (the grace period).

const quiet = pino({ level: 'silent' })
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
const EGRESS: IClientOptions['properties'] = { userProperties: { 'flowgate-role': 'egress' } }

interface Egress { client: MqttClient, got: string[], release: () => void }

/** An egress-like client: holds its PUBACKs until `release()` (then acknowledges what it got and all later). */
async function egress (url: string, clientId: string, filter: string, opts: { clean?: boolean, hold?: boolean } = {}): Promise<Egress> {
  const got: string[] = []
  const held: Array<() => void> = []
  let holding = opts.hold !== false
  const client = await connectAsync(url, {
    protocolVersion: 5,
    clientId,
    clean: opts.clean ?? false,
    reconnectPeriod: 0,
    properties: { ...EGRESS, sessionExpiryInterval: 60 },
    customHandleAcks (_topic, message, _packet, done) {
      got.push(message.toString())
      if (holding) held.push(() => done(0))
      else done(0)
    }
  })
  await client.subscribeAsync(filter, { qos: 1 })
  return { client, got, release () { holding = false; for (const d of held.splice(0)) d() } }
}

function timed (p: Promise<unknown>): { settled: () => boolean, at: () => number | undefined, outcome: Promise<unknown> } {
  let at: number | undefined
  const outcome = p.then((v) => { at = Date.now(); return v }, (err: unknown) => { at = Date.now(); return err })
  return { settled: () => at !== undefined, at: () => at, outcome }
}

async function split (t: Test, egressGraceMs = 0): Promise<string> {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, ackAfterSharedDelivery: true, sharedSubscriptions: { egressGraceMs } })
  t.teardown(() => ingress.close())
  return `mqtt://127.0.0.1:${ingress.mqtt.port}`
}

t.test('an egress\' PLAIN subscription holds the device\'s PUBACK until the egress acknowledged', { timeout: 20_000 }, async (t) => {
  const url = await split(t)
  const e = await egress(url, 'flowgate-egress-0-ns-flow', 'factory/#')
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  t.teardown(async () => { await device.endAsync(true); await e.client.endAsync(true) })
  const p = timed(device.publishAsync('factory/oven', 'x', { qos: 1 }))
  await sleep(300)
  t.same(e.got, ['x'], 'the egress got the message')
  t.notOk(p.settled(), 'no PUBACK for the device while the egress has not acknowledged')
  e.release()
  await p.outcome
  t.ok(p.settled(), 'acknowledged once the egress did')
  // A plain subscriber that is not an egress (another device) holds nothing.
  const reader = await connectAsync(url, { protocolVersion: 5, clientId: 'reader' })
  t.teardown(() => reader.endAsync(true))
  await reader.subscribeAsync('office/#', { qos: 1 })
  await device.publishAsync('office/door', 'open', { qos: 1 })
  t.pass('a device subscriber does not hold PUBACKs')
})

t.test('an egress that is away (its session kept): the device\'s PUBACK waits until it is back and acknowledged', { timeout: 20_000 }, async (t) => {
  const url = await split(t)
  const first = await egress(url, 'flowgate-egress-0-ns-flow', 'factory/#', { hold: false })
  await first.client.endAsync()
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  t.teardown(() => device.endAsync(true))
  const p = timed(device.publishAsync('factory/oven', 'while-away', { qos: 1 }))
  await sleep(500)
  t.notOk(p.settled(), 'no PUBACK while the egress is away')
  const back = await egress(url, 'flowgate-egress-0-ns-flow', 'factory/#', { hold: false })
  t.teardown(() => back.client.endAsync(true))
  await p.outcome
  t.same(back.got, ['while-away'], 'the egress got it when it came back, once')
})

t.test('after the ingress starts, PUBACKs wait for the grace period: egress subscriptions coming back get what arrived meanwhile', { timeout: 20_000 }, async (t) => {
  const url = await split(t, 1500)
  const started = Date.now()
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  t.teardown(() => device.endAsync(true))
  const early = timed(device.publishAsync('factory/oven', 'early', { qos: 1 }))
  const elsewhere = timed(device.publishAsync('office/door', 'nobody', { qos: 1 }))
  await sleep(300)
  // The egress comes back (as after an ingress restart: it re-subscribes) within the grace period.
  const e = await egress(url, 'flowgate-egress-0-ns-flow', 'factory/#', { hold: false })
  t.teardown(() => e.client.endAsync(true))
  await sleep(300)
  t.same(e.got, ['early'], 'the egress got what arrived before it subscribed')
  t.notOk(early.settled() || elsewhere.settled(), 'nothing acknowledged during the grace period')
  await Promise.all([early.outcome, elsewhere.outcome])
  t.ok(early.at()! - started >= 1400, `acknowledged after the grace period (${early.at()! - started} ms)`)
  t.ok(elsewhere.at()! - started >= 1400, `a publish no egress takes is acknowledged once the grace period is over (${elsewhere.at()! - started} ms)`)
  // After the grace period: as usual.
  const later = timed(device.publishAsync('office/door', 'later', { qos: 1 }))
  await later.outcome
  t.ok(later.at()! - Date.now() < 200, 'later publishes no egress takes are acknowledged at once')
})

t.test('topic loops: what an egress publishes (Kafka → MQTT) never re-enters an egress group; devices\' publishes do', { timeout: 20_000 }, async (t) => {
  const url = await split(t)
  // A dataflow reading `plant/#` (an egress' plain subscription) and another writing Kafka records to `plant/out`.
  const reader = await egress(url, 'flowgate-egress-0-ns-ingest', 'plant/#', { hold: false })
  const shared = await egress(url, 'flowgate-egress-0-ns-ingest2', '$share/flowgate-ns-ingest2/plant/#', { hold: false })
  const writer = await connectAsync(url, { protocolVersion: 5, clientId: 'flowgate-egress-0-ns-outbound', properties: EGRESS })
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  t.teardown(async () => { for (const c of [reader.client, shared.client, writer, device]) await c.endAsync(true) })
  const p = timed(writer.publishAsync('plant/out', 'from-kafka', { qos: 1 }))
  await p.outcome
  t.ok(p.settled(), 'the egress\' own publish is acknowledged (no egress group waits for it)')
  await device.publishAsync('plant/line', 'from-device', { qos: 1 })
  await sleep(200)
  t.same(reader.got, ['from-device'], 'the plain-subscribed egress got the device\'s message only')
  t.same(shared.got, ['from-device'], 'the shared group too')
})
