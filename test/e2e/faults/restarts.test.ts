import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rig, createTopic, uniqueTopic, kcatConsume, eventually, manifests, kafkaEndpoint, dataflow, startDeviceLoad, checkAgainstKafka, freePort, reportFault, checkLedger, adminClient, startCliGateway, type AdminClient } from '@flowgate/testkit'

// Every PUBACK is a promise across a process restart: the gateway runs as `flowgate start` in a child process (its
// data directory and ports kept from one process to the next), devices with persistent sessions (MQTT 5 and 3.1.1,
// 4 × 150 msg/s) publish QoS 1 sequence numbers into a Kafka dataflow, and the process is stopped under load —
// SIGTERM (a clean shutdown) or SIGKILL (nothing runs after it) — and started again on the same ports and data
// directory. The devices reconnect and resend what was not acknowledged. Afterwards kcat reads the topic: every
// message that got a success PUBACK, from either process, must be there, each key's sequence in order.

const r = await rig()
const NS = 'azure-iot-operations'
const devices = [
  { clientId: 'v5-a', protocolVersion: 5 as const }, { clientId: 'v5-b', protocolVersion: 5 as const },
  { clientId: 'v3-a', protocolVersion: 4 as const }, { clientId: 'v3-b', protocolVersion: 4 as const }
]
const flow = (topic: string): string => manifests(
  kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs: 5, maxMessages: 500 } } }),
  dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
)
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))




async function dataflowReady (admin: AdminClient): Promise<void> {
  await eventually(async () => (await admin.get(`/api/v1/namespaces/${NS}/dataflows/load`)).body.status?.conditions?.[0]?.status === 'True' ? true : undefined, 30_000, 'the dataflow Ready')
}

/** Each device's highest acknowledged sequence number. */
function lastAcked (acked: Set<string>): Map<string, number> {
  const last = new Map<string, number>()
  for (const id of acked) {
    const [device, seq] = id.split(':')
    last.set(device!, Math.max(last.get(device!) ?? 0, Number(seq)))
  }
  return last
}

async function restartUnderLoad (t: Test, name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const topic = uniqueTopic(name)
  await createTopic(topic, 3)
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-restart-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const log: string[] = []
  const first = await startCliGateway(t, { dataDir, httpPort, mqttPort, log, name: 'first' })
  await first.ready()
  // The token the first start generated into the data directory: the next process reads the same file.
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()
  const admin = adminClient(`http://127.0.0.1:${httpPort}`, token)
  const applied = await admin.apply(flow(topic))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  await dataflowReady(admin)

  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${mqttPort}`, prefix: 'load', devices, rate: 150, persistent: true })
  t.teardown(() => load.close())
  await sleep(2500)
  const beforeKill = load.acked.size
  t.ok(beforeKill > 500, `load ran on the first process (${beforeKill} acknowledged)`)

  const killedAt = Date.now()
  first.proc.kill(signal)
  const exit = await Promise.race([first.exited, sleep(30_000).then(() => undefined)])
  t.ok(exit !== undefined, `the first process ended after ${signal} (${Date.now() - killedAt} ms)`)
  if (signal === 'SIGTERM') t.same(exit, { code: 0, signal: null }, 'SIGTERM: a clean shutdown, exit code 0')
  else t.same(exit, { code: null, signal: 'SIGKILL' }, 'SIGKILL: killed')
  const atKill = load.acked.size
  const lastAtKill = lastAcked(load.acked)

  // The same ports and data directory: the resources (and the admin token) come back from the store.
  await (await startCliGateway(t, { dataDir, httpPort, mqttPort, log, name: 'second' })).ready()
  t.comment(`second process ready ${Date.now() - killedAt} ms after ${signal}`)
  await dataflowReady(admin)
  await eventually(async () => load.acked.size > atKill + 1000 ? true : undefined, 30_000, `devices reconnected and acknowledged again (${load.acked.size} acknowledged, ${atKill} at the ${signal}): ${log.join('')}`)
  await sleep(1500)
  await load.stop()
  t.comment(`acknowledged: ${beforeKill} before the ${signal}, ${atKill} when the process was gone, ${load.acked.size} in all; ${load.failed.size} failed at the device`)

  const records = await kcatConsume(r, 'plaintext', topic, load.sent + 2000)
  const check = checkAgainstKafka(load.acked, records)
  reportFault(t, `gateway process ${signal} + restart (CLI, same data dir)`, check)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  // Every device (v5 and 3.1.1) carried on with the second process: acknowledged sequence numbers past the last one
  // the first process acknowledged.
  const afterRestart = lastAcked(load.acked)
  for (const d of devices) t.ok((afterRestart.get(d.clientId) ?? 0) > (lastAtKill.get(d.clientId) ?? 0) + 100, `${d.clientId}: acknowledged up to ${lastAtKill.get(d.clientId)} by the first process, up to ${afterRestart.get(d.clientId)} in all`)
  const ledger = await checkLedger(t, admin, 'load')
  t.ok(ledger.received > 0, `the restarted process' ledger counts what it received (${JSON.stringify(ledger)})`)
  t.notOk(/FG_ERR_|"level":(50|60)/.test(log.join('')), `no errors in the processes' logs: ${log.join('').slice(0, 4000)}`)
}

t.test('gateway process SIGTERMed under load and started again: every acknowledged message is in Kafka, in order per key', { timeout: 70_000 }, async (t) => {
  await restartUnderLoad(t, 'fault-sigterm', 'SIGTERM')
})

t.test('gateway process SIGKILLed under load and started again: every acknowledged message is in Kafka, in order per key', { timeout: 70_000 }, async (t) => {
  await restartUnderLoad(t, 'fault-sigkill', 'SIGKILL')
})
