import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IClientOptions, IPublishPacket } from 'mqtt'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { startGateway } from '@flowgate/gateway'
import { rig, kafkaConfig, createTopic, uniqueTopic, eventually, freePort, manifests, kafkaEndpoint, dataflow, adminClient, startCliGateway, startTestGateway, recordMessages as recorder, type AdminClient } from '@flowgate/testkit'

// Kafka → MQTT to a device that is away: a Kafka → MQTT dataflow delivers into the embedded broker, where a device's
// persistent MQTT 5 session (Clean Start 0, Session Expiry one day) is offline. What the dataflow committed in Kafka
// must reach the device when it comes back — across a SIGKILL of the gateway (the session's queue is durable in the
// data dir), and while records keep coming for the 30 s it is away.

const r = await rig()
const NS = 'azure-iot-operations'
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

const flow = (topic: string, mqttTopic: string): string => manifests(
  kafkaEndpoint({ name: 'kafka-source', host: r.listeners.plaintext }),
  dataflow({ name: 'to-devices', source: { endpointRef: 'kafka-source', dataSources: [topic] }, destination: { endpointRef: 'default', dataDestination: mqttTopic } })
)

async function kafkaProducer (t: Test): Promise<Producer> {
  const p = new Kafka({ ...kafkaConfig(r, 'plaintext', 'sessions-kafka-producer'), logLevel: logLevel.NOTHING }).producer()
  await p.connect()
  t.teardown(() => p.disconnect())
  return p
}


/** A new consumer group starts at the end of the topic: probes until one reaches `observer`, then the test's records count. */
async function warmUp (p: Producer, topic: string, observer: { got: IPublishPacket[] }): Promise<void> {
  await eventually(async () => {
    await p.send({ topic, messages: [{ key: 'probe', value: 'probe' }] })
    await sleep(300)
    return observer.got.some((m) => m.payload.toString() === 'probe') ? true : undefined
  }, 60_000, 'the dataflow to forward a probe record')
}

const dataflowReady = async (admin: AdminClient): Promise<void> => {
  await eventually(async () => (await admin.get(`/api/v1/namespaces/${NS}/dataflows/to-devices`)).body.status?.conditions?.[0]?.status === 'True' ? true : undefined, 30_000, 'the dataflow Ready')
}

/** The sequence numbers in `got` (probes left out): every one of 0..n-1 present, first arrivals in order. */
function delivered (got: IPublishPacket[], n: number): { missing: number[], outOfOrder: number, duplicates: number } {
  const seen = new Set<number>()
  let last = -1
  let outOfOrder = 0
  let duplicates = 0
  for (const m of got) {
    const payload = m.payload.toString()
    if (payload === 'probe') continue
    const seq = Number(payload)
    if (seen.has(seq)) { duplicates++; continue }
    if (seq < last) outOfOrder++
    last = Math.max(last, seq)
    seen.add(seq)
  }
  return { missing: Array.from({ length: n }, (_, i) => i).filter((i) => !seen.has(i)), outOfOrder, duplicates }
}

t.test('records a Kafka → MQTT dataflow delivered to an offline persistent session survive SIGKILL of the gateway: all 1,000, in order', { timeout: 180_000 }, async (t) => {
  const topic = uniqueTopic('sessions-kafka')
  await createTopic(topic, 1)
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-sessions-kafka-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const log: string[] = []
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const url = `mqtt://127.0.0.1:${mqttPort}`
  const first = await startCliGateway(t, { dataDir, httpPort, mqttPort, log, name: 'first' })
  await first.ready()
  const admin = adminClient(`http://127.0.0.1:${httpPort}`, readFileSync(join(dataDir, 'admin-token'), 'utf8').trim())
  t.equal((await admin.apply(flow(topic, 'plant/unit-7/cmd'))).status, 200)
  await dataflowReady(admin)

  const session: IClientOptions = { clientId: 'unit-7', clean: false, properties: { sessionExpiryInterval: 86_400 } }
  const device = await recorder(url, { ...session, clean: true })
  await device.client.subscribeAsync('plant/unit-7/cmd', { qos: 1 })
  await device.client.endAsync()
  // A clean-session observer on the same topic: the broker queues for the offline session before it forwards live, so
  // the observer having every record means every one was queued — the barrier before the kill.
  const observer = await recorder(url, { clientId: 'observer' })
  await observer.client.subscribeAsync('plant/+/cmd', { qos: 1 })
  const producer = await kafkaProducer(t)
  await warmUp(producer, topic, observer)

  await producer.send({ topic, messages: Array.from({ length: 1000 }, (_, i) => ({ key: 'unit-7', value: String(i) })) })
  await eventually(async () => delivered(observer.got, 1000).missing.length === 0 ? true : undefined, 60_000, 'the observer has all 1,000')
  await observer.client.endAsync()

  first.proc.kill('SIGKILL')
  t.same(await first.exited, { code: null, signal: 'SIGKILL' }, 'SIGKILLed')
  await (await startCliGateway(t, { dataDir, httpPort, mqttPort, log, name: 'second' })).ready()

  const back = await recorder(url, session)
  t.teardown(() => back.client.endAsync().catch(() => {}))
  t.equal(back.sessionPresent, true, 'the session was kept (Session Present)')
  await eventually(async () => delivered(back.got, 1000).missing.length === 0 ? true : undefined, 60_000, `the 1,000 records (${back.got.length} so far) ${log.join('')}`)
  const check = delivered(back.got, 1000)
  t.equal(check.outOfOrder, 0, 'in the order of the partition')
  t.comment(`records the device got twice (re-consumed after the kill, before their commit): ${check.duplicates}`)
})

t.test('a persistent device away for 30 s while a Kafka → MQTT dataflow keeps delivering: nothing Kafka has is missing when it is back', { timeout: 150_000 }, async (t) => {
  const topic = uniqueTopic('away-30s')
  await createTopic(topic, 1)
  const gw = await startTestGateway(t, startGateway)
  const url = `mqtt://127.0.0.1:${gw.mqtt.port}`
  t.equal((await gw.admin.apply(flow(topic, 'plant/unit-8/cmd'))).status, 200)
  await dataflowReady(gw.admin)
  const session: IClientOptions = { clientId: 'unit-8', clean: false, properties: { sessionExpiryInterval: 86_400 } }
  const device = await recorder(url, { ...session, clean: true })
  t.teardown(() => device.client.endAsync(true).catch(() => {}))
  await device.client.subscribeAsync('plant/unit-8/cmd', { qos: 1 })
  const producer = await kafkaProducer(t)
  await warmUp(producer, topic, device)

  // ~200 records/s for 36 s; the device leaves after 3 s and is back 30 s later, while records still come.
  let produced = 0
  const producing = (async () => {
    const until = Date.now() + 36_000
    while (Date.now() < until) {
      await producer.send({ topic, messages: Array.from({ length: 20 }, () => ({ key: 'unit-8', value: String(produced++) })) })
      await sleep(100)
    }
  })()
  await sleep(3000)
  await device.client.endAsync()
  await sleep(30_000)
  const back = await recorder(url, session)
  t.teardown(() => back.client.endAsync(true).catch(() => {}))
  t.equal(back.sessionPresent, true, 'the session was kept')
  await producing
  await eventually(async () => delivered([...device.got, ...back.got], produced).missing.length === 0 ? true : undefined, 60_000, `every one of ${produced} records (${device.got.length + back.got.length} so far)`)
  const check = delivered([...device.got, ...back.got], produced)
  t.ok(produced > 3000, `load ran (${produced} records, ${back.got.length} of them delivered after the device came back)`)
  t.equal(check.outOfOrder, 0, 'in the order of the partition')
  t.comment(`duplicates: ${check.duplicates}`)
})
