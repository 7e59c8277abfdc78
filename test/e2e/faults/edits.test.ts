import t, { type Test } from 'tap'
import { startGateway } from '@flowgate/gateway'
import { rig, createTopic, uniqueTopic, kcatConsume, startTestGateway, eventually, manifests, kafkaEndpoint, dataflow, dataflowProfile, secret, startDeviceLoad, checkAgainstKafka, reportFault, checkLedger, type DeviceLoad, type AdminClient } from '@flowgate/testkit'

// Every PUBACK is a promise through edits of what a dataflow depends on, under load (MQTT 5 and 3.1.1 devices with
// persistent sessions, 4 × 150 msg/s of QoS 1 sequence numbers): its endpoint's Secret rotated, its DataflowProfile
// edited, the dataflow itself disabled and enabled — three times each. Afterwards kcat reads the topic: every message
// that got a success PUBACK while a dataflow took it must be there, each key's sequence in order; the ledger balances.

const r = await rig()
const NS = 'azure-iot-operations'
const sasl = r.users['scram-sha-256']
const devices = [
  { clientId: 'v5-a', protocolVersion: 5 as const }, { clientId: 'v5-b', protocolVersion: 5 as const },
  { clientId: 'v3-a', protocolVersion: 4 as const }, { clientId: 'v3-b', protocolVersion: 4 as const }
]
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
const endpoint = (): object => kafkaEndpoint({ name: 'kafka', host: r.listeners.saslPlaintext, authentication: { method: 'Sasl', saslSettings: { saslType: 'ScramSha256', secretRef: 'kafka-secret' } }, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs: 5, maxMessages: 500 } } })
const kafkaSecret = (rotation: number): object => secret('kafka-secret', { username: sasl.username, password: sasl.password, rotation: String(rotation) })
const flowOf = (topic: string, mode: 'Enabled' | 'Disabled' = 'Enabled'): object => {
  const d = dataflow({ name: 'load', profileRef: 'load-profile', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } }) as { spec: { mode: string } }
  d.spec.mode = mode
  return d
}
const profile = (level: string): object => {
  const p = dataflowProfile('load-profile', 1) as { spec: Record<string, unknown> }
  p.spec.diagnostics = { logs: { level } }
  return p
}

async function ready (admin: AdminClient): Promise<void> {
  await eventually(async () => (await admin.get(`/api/v1/namespaces/${NS}/dataflows/load`)).body.status?.conditions?.[0]?.status === 'True' ? true : undefined, 20_000, 'the dataflow Ready')
}

async function flowUnderLoad (t: Test, name: string): Promise<{ topic: string, admin: AdminClient, load: DeviceLoad }> {
  const topic = uniqueTopic(name)
  await createTopic(topic, 3)
  const gw = await startTestGateway(t, startGateway)
  const applied = await gw.admin.apply(manifests(kafkaSecret(0), profile('info'), endpoint(), flowOf(topic)))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  await ready(gw.admin)
  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${gw.mqtt.port}`, prefix: 'load', devices, rate: 150, persistent: true })
  t.teardown(() => load.close())
  return { topic, admin: gw.admin, load }
}

async function verify (t: Test, scenario: string, topic: string, load: DeviceLoad, admin: AdminClient, promised: Set<string> = load.acked): Promise<void> {
  await load.stop()
  const records = await kcatConsume(r, 'plaintext', topic, load.sent + 2000)
  const check = checkAgainstKafka(promised, records)
  reportFault(t, scenario, check)
  t.ok(check.acknowledged > 1000, `load ran (${check.acknowledged} acknowledged)`)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  await checkLedger(t, admin, 'load')
}

t.test('the endpoint\'s Secret rotated three times under load (SASL SCRAM-SHA-256)', { timeout: 60_000 }, async (t) => {
  const { topic, admin, load } = await flowUnderLoad(t, 'fault-secret-rotate')
  for (const rotation of [1, 2, 3]) {
    await sleep(1500)
    t.equal((await admin.apply(manifests(kafkaSecret(rotation)))).status, 200, `Secret rotated (${rotation})`)
  }
  await sleep(1500)
  await verify(t, 'Secret rotated 3× (SCRAM)', topic, load, admin)
})

t.test('the DataflowProfile edited three times under load', { timeout: 60_000 }, async (t) => {
  const { topic, admin, load } = await flowUnderLoad(t, 'fault-profile-edit')
  for (const level of ['debug', 'warn', 'info']) {
    await sleep(1500)
    t.equal((await admin.apply(manifests(profile(level)))).status, 200, `profile logs.level → ${level}`)
  }
  await sleep(1500)
  await verify(t, 'DataflowProfile edited 3× (logs.level)', topic, load, admin)
})

t.test('the dataflow disabled and enabled three times under load', { timeout: 90_000 }, async (t) => {
  const { topic, admin, load } = await flowUnderLoad(t, 'fault-disable')
  // While the dataflow is disabled no dataflow takes load/#: the broker acknowledges those publishes as MQTT does for
  // a topic nobody takes, and they are not Kafka's. Every acknowledgement outside those windows is a promise.
  const disabledWindows: Array<Set<string>> = []
  for (let i = 0; i < 3; i++) {
    await sleep(1500)
    const before = new Set(load.acked)
    t.equal((await admin.apply(manifests(flowOf(topic, 'Disabled')))).status, 200, `disabled (${i + 1})`)
    await sleep(1000)
    t.equal((await admin.apply(manifests(flowOf(topic, 'Enabled')))).status, 200, `enabled (${i + 1})`)
    await ready(admin)
    disabledWindows.push(new Set([...load.acked].filter((id) => !before.has(id))))
  }
  await sleep(1500)
  const promised = new Set([...load.acked].filter((id) => !disabledWindows.some((w) => w.has(id))))
  t.comment(`acknowledged during the three disable → enable windows: ${disabledWindows.map((w) => w.size).join(', ')}`)
  await verify(t, 'dataflow disabled/enabled 3× (acknowledged while enabled)', topic, load, admin, promised)
})
