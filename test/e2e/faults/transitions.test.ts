import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'mqtt'
import { pino } from 'pino'
import { startGateway } from '@flowgate/gateway'
import { rig, createTopic, uniqueTopic, kcatConsume, startTestGateway, eventually, manifests, kafkaEndpoint, dataflow, secret, startDeviceLoad, checkAgainstKafka, freePort, reportFault, checkLedger, type DeviceLoad } from '@flowgate/testkit'

// Every PUBACK is a promise through transitions: devices (MQTT 5 and 3.1.1) publish QoS 1 sequence numbers at
// ~600 msg/s while the dataflow's endpoint is edited three times, then while the gateway shuts down. Afterwards kcat
// reads the topic: every message that got a success PUBACK must be there, each key's sequence in order.

const r = await rig()
const devices = [
  { clientId: 'v5-a', protocolVersion: 5 as const }, { clientId: 'v5-b', protocolVersion: 5 as const },
  { clientId: 'v3-a', protocolVersion: 4 as const }, { clientId: 'v3-b', protocolVersion: 4 as const }
]
const flow = (topic: string, latencyMs: number): string => manifests(
  kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs, maxMessages: 500 } } }),
  dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
)

async function ready (gw: Awaited<ReturnType<typeof startTestGateway>>): Promise<void> {
  await eventually(async () => (await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/load')).body.status?.conditions?.[0]?.status === 'True' ? true : undefined, 20_000, 'the dataflow Ready')
}

/** A gateway with the dataflow Ready and the four devices publishing into it. */
async function flowUnderLoad (t: Test, name: string): Promise<{ topic: string, gw: Awaited<ReturnType<typeof startTestGateway>>, load: DeviceLoad }> {
  const topic = uniqueTopic(name)
  await createTopic(topic, 3)
  const gw = await startTestGateway(t, startGateway)
  t.equal((await gw.admin.apply(flow(topic, 5))).status, 200)
  await ready(gw)
  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${gw.mqtt.port}`, prefix: 'load', devices, rate: 150 })
  t.teardown(() => load.close())
  return { topic, gw, load }
}

t.test('endpoint edited three times under load: every acknowledged message is in Kafka, in order per key', { timeout: 120_000 }, async (t) => {
  const { topic, gw, load } = await flowUnderLoad(t, 'fault-edit')
  for (const latencyMs of [20, 50, 10]) {
    await new Promise((resolve) => setTimeout(resolve, 1500))
    t.equal((await gw.admin.apply(flow(topic, latencyMs))).status, 200, `batching.latencyMs → ${latencyMs}`)
  }
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await load.stop()
  const records = await kcatConsume(r, 'plaintext', topic, load.sent + 1000)
  const check = checkAgainstKafka(load.acked, records)
  reportFault(t, 'endpoint edited 3× (batching)', check)
  t.ok(check.acknowledged > 1000, `load ran (${check.acknowledged} acknowledged)`)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  const ledger = await checkLedger(t, gw.admin, 'load')
  t.ok(ledger.sent >= check.acknowledged, 'the ledger counts across the three restarts of the flow')
})

t.test('gateway shut down under load: every acknowledged message is in Kafka', { timeout: 120_000 }, async (t) => {
  const { topic, gw, load } = await flowUnderLoad(t, 'fault-stop')
  await new Promise((resolve) => setTimeout(resolve, 2000))
  await gw.close()
  await load.stop(5000)
  const records = await kcatConsume(r, 'plaintext', topic, load.sent + 1000)
  const check = checkAgainstKafka(load.acked, records)
  reportFault(t, 'gateway shut down (in process)', check)
  t.ok(check.acknowledged > 500, `load ran (${check.acknowledged} acknowledged)`)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
})

t.test('a dataflow whose Secret lacks its password at first holds its publishes unacknowledged, then delivers them when the Secret comes', { timeout: 120_000 }, async (t) => {
  const topic = uniqueTopic('fault-secret')
  await createTopic(topic, 3)
  const gw = await startTestGateway(t, startGateway)
  const sasl = r.users['scram-sha-256']
  // The Secret exists (references resolve) but has no password yet: the dataflow cannot start.
  const applied = await gw.admin.apply(manifests(
    secret('late-secret', { username: sasl.username }),
    kafkaEndpoint({ name: 'kafka', host: r.listeners.saslPlaintext, authentication: { method: 'Sasl', saslSettings: { saslType: 'ScramSha256', secretRef: 'late-secret' } }, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id' } }),
    dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  ))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  const status = await eventually(async () => {
    const s = (await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/load')).body.status
    return s?.conditions?.[0]?.status === 'False' ? s.conditions[0] : undefined
  }, 20_000, 'the dataflow to report why it does not run')
  t.match(status.message, /password|late-secret/, `status says what is missing: ${status.message}`)
  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${gw.mqtt.port}`, prefix: 'load', devices, rate: 100, window: 20 })
  t.teardown(() => load.close())
  await new Promise((resolve) => setTimeout(resolve, 2000))
  t.equal(load.acked.size, 0, 'nothing acknowledged while the dataflow cannot start')
  t.equal((await gw.admin.apply(manifests(secret('late-secret', { username: sasl.username, password: sasl.password })))).status, 200)
  await eventually(async () => load.acked.size > 200 ? true : undefined, 30_000, 'messages acknowledged once the Secret exists')
  await load.stop()
  const records = await kcatConsume(r, 'plaintext', topic, load.sent + 1000)
  const check = checkAgainstKafka(load.acked, records)
  reportFault(t, 'Secret missing its password, then fixed', check)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  await checkLedger(t, gw.admin, 'load')
})

t.test('gateway restarted while devices reconnect: nothing is acknowledged before the dataflows run', { timeout: 120_000 }, async (t) => {
  const topic = uniqueTopic('fault-boot')
  await createTopic(topic, 3)
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-boot-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const mqttPort = await freePort()
  const quiet = pino({ level: 'silent' })
  const first = await startGateway({ httpPort: 0, mqttPort, dataDir, logger: quiet })
  const base = `http://127.0.0.1:${first.http.port}`
  const applied = await fetch(`${base}/api/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' }, body: flow(topic, 5) })
  t.equal(applied.status, 200)
  await first.close()

  // Devices hammer the port while the next process starts: each publishes as soon as it gets in.
  const acked = new Set<string>()
  let stop = false
  const devicesDone = Promise.all(devices.map(async (d) => {
    let seq = 0
    while (!stop) {
      // connect(), not connectAsync(): a refused attempt's client must be ended too, or its socket outlives the test.
      const client = connect(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: d.protocolVersion, clientId: d.clientId, reconnectPeriod: 0, connectTimeout: 20_000 })
      const inside = await new Promise<boolean>((resolve) => { client.once('connect', () => resolve(true)); client.once('error', () => resolve(false)); client.once('close', () => resolve(false)) })
      if (!inside) { client.end(true); await new Promise((resolve) => setTimeout(resolve, 10)); continue }
      while (!stop && client.connected) {
        const payload = `${d.clientId}:${++seq}`
        await client.publishAsync(`load/${d.clientId}`, payload, { qos: 1, ...(d.protocolVersion === 5 ? { properties: { userProperties: { 'device-id': d.clientId } } } : {}) })
          .then(() => { acked.add(payload) }, () => {})
      }
      await client.endAsync(true)
    }
  }))
  const second = await startGateway({ httpPort: 0, mqttPort, dataDir, logger: quiet })
  t.teardown(() => second.close())
  await new Promise((resolve) => setTimeout(resolve, 2000))
  stop = true
  await devicesDone
  const records = await kcatConsume(r, 'plaintext', topic, acked.size + 1000)
  const check = checkAgainstKafka(acked, records)
  reportFault(t, 'gateway restarted while devices reconnect', check)
  t.ok(check.acknowledged > 100, `devices got in (${check.acknowledged} acknowledged)`)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
})
