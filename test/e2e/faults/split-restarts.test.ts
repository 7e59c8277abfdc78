import t, { type Test } from 'tap'
import { rig, createTopic, uniqueTopic, kcatConsume, manifests, kafkaEndpoint, dataflow, startDeviceLoad, checkAgainstKafka, reportFault, eventually, type DeviceLoad } from '@flowgate/testkit'
import { startSplit, sleep, type SplitDeployment } from './split-harness.js'

// The split deployment's promise across process deaths, under load: devices (MQTT 5 and 3.1.1, persistent sessions,
// 4 × 150 msg/s) publish QoS 1 sequence numbers through the ingress to one egress (without --shared: a plain
// subscription) into Kafka. The ingress — or the egress — is SIGKILLed and started again on the same ports. The
// devices reconnect and resend what was not acknowledged; afterwards kcat reads the topic: every message that got a
// success PUBACK is there, each key's sequence in order.

const r = await rig()
const devices = [
  { clientId: 'v5-a', protocolVersion: 5 as const }, { clientId: 'v5-b', protocolVersion: 5 as const },
  { clientId: 'v3-a', protocolVersion: 4 as const }, { clientId: 'v3-b', protocolVersion: 4 as const }
]

async function underLoad (t: Test, name: string): Promise<{ split: SplitDeployment, topic: string, load: DeviceLoad }> {
  const topic = uniqueTopic(name)
  await createTopic(topic, 3)
  // The grace period after an ingress start: longer than the egress takes to reconnect (its backoff is short here).
  const split = await startSplit(t, { ingressArgs: ['--egress-grace-seconds', '8'] })
  t.equal((await split.admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs: 5, maxMessages: 500 } } }),
    dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  ))).status, 200)
  await split.startEgress(0)
  await split.egressRunning(0, 1)
  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${split.mqttPort}`, prefix: 'load', devices, rate: 150, persistent: true })
  t.teardown(() => load.close())
  await eventually(async () => load.acked.size > 1000 ? true : undefined, 30_000, `load acknowledged (${load.acked.size}): ${split.log.join('').slice(-2000)}`)
  return { split, topic, load }
}

async function verify (t: Test, scenario: string, topic: string, load: DeviceLoad, atKill: number, split: SplitDeployment): Promise<void> {
  await eventually(async () => load.acked.size > atKill + 1500 ? true : undefined, 40_000, `acknowledgements resumed (${load.acked.size}, ${atKill} at the kill): ${split.log.join('').slice(-3000)}`)
  await load.stop(15_000)
  const records = await kcatConsume(r, 'plaintext', topic, load.sent * 2 + 2000)
  const check = checkAgainstKafka(load.acked, records)
  const row = reportFault(t, scenario, check)
  t.comment(`${scenario}: sent ${load.sent}, acknowledged ${check.acknowledged}, unanswered/refused ${load.failed.size}, in Kafka ${check.inKafka} (${records.length} records)`)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${row.missing} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  t.notOk(/FG_ERR_|"level":(50|60)/.test(split.log.join('')), `no errors in the logs: ${split.log.join('').slice(0, 3000)}`)
}

t.test('split: the ingress SIGKILLed under load and started again — every acknowledged message in Kafka', { timeout: 90_000 }, async (t) => {
  const { split, topic, load } = await underLoad(t, 'split-ingress-kill')
  split.ingress.proc.kill('SIGKILL')
  await split.ingress.exited
  const atKill = load.acked.size
  await sleep(500)
  await split.startIngress()
  await verify(t, 'split: ingress SIGKILL + restart (memory sessions)', topic, load, atKill, split)
})

t.test('split: the egress SIGKILLed under load and started again — every acknowledged message in Kafka', { timeout: 90_000 }, async (t) => {
  const { split, topic, load } = await underLoad(t, 'split-egress-kill')
  split.egress.get(0)!.proc.kill('SIGKILL')
  await split.egress.get(0)!.exited
  const atKill = load.acked.size
  await sleep(2000)
  t.ok(load.acked.size - atKill < 300, `no PUBACKs while the egress is gone beyond what was on its way (${load.acked.size - atKill})`)
  await split.startEgress(0)
  await verify(t, 'split: egress SIGKILL + restart', topic, load, atKill, split)
})
