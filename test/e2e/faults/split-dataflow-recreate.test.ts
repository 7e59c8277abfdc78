import t from 'tap'
import { rig, createTopic, uniqueTopic, kcatConsume, manifests, kafkaEndpoint, dataflow, startDeviceLoad, checkAgainstKafka, reportFault, eventually } from '@flowgate/testkit'
import { startSplit, sleep } from './split-harness.js'

// A dataflow deleted and created again under load, in the split deployment: while it is gone its egress group (here
// the egress' own: a plain subscription) has no member, so the devices' PUBACKs wait and the messages wait in the
// group; re-created, the egress resumes the same session and takes them. Every message that got a success PUBACK is
// in Kafka (kcat), each key's sequence in order.

const r = await rig()
const devices = [
  { clientId: 'v5-a', protocolVersion: 5 as const }, { clientId: 'v5-b', protocolVersion: 5 as const },
  { clientId: 'v3-a', protocolVersion: 4 as const }, { clientId: 'v3-b', protocolVersion: 4 as const }
]

t.test('split: a dataflow deleted and re-created under load — no PUBACK while it is gone, every acknowledged message in Kafka', { timeout: 90_000 }, async (t) => {
  const topic = uniqueTopic('split-recreate')
  await createTopic(topic, 3)
  const split = await startSplit(t, { ingressArgs: ['--egress-grace-seconds', '0'] })
  const flow = manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs: 5, maxMessages: 500 } } }),
    dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  )
  t.equal((await split.admin.apply(flow)).status, 200)
  await split.startEgress(0)
  await split.egressRunning(0, 1)
  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${split.mqttPort}`, prefix: 'load', devices, rate: 150, persistent: true })
  t.teardown(() => load.close())
  await eventually(async () => load.acked.size > 1000 ? true : undefined, 30_000, `load acknowledged (${load.acked.size})`)

  t.equal(await split.deleteDataflow('load'), 200, 'the dataflow deleted')
  await eventually(async () => {
    const body = await (await fetch(`http://127.0.0.1:${split.egressPort(0)}/readyz`)).json() as { running?: string[] }
    return body.running?.length === 0 ? true : undefined
  }, 15_000, 'the egress stopped the dataflow')
  await sleep(1000)
  const whileGone = load.acked.size
  await sleep(3000)
  t.equal(load.acked.size - whileGone, 0, 'no PUBACK while the dataflow is gone: its group holds the messages')

  t.equal((await split.admin.apply(flow)).status, 200, 'the dataflow re-created')
  await split.egressRunning(0, 1)
  await eventually(async () => load.acked.size > whileGone + 1500 ? true : undefined, 40_000, `acknowledgements resumed (${load.acked.size}): ${split.log.join('').slice(-3000)}`)
  await load.stop(15_000)

  const records = await kcatConsume(r, 'plaintext', topic, load.sent * 2 + 2000)
  const check = checkAgainstKafka(load.acked, records)
  const row = reportFault(t, 'split: dataflow deleted + re-created under load', check)
  t.comment(`sent ${load.sent}, acknowledged ${check.acknowledged}, unanswered/refused ${load.failed.size}, in Kafka ${check.inKafka} (${records.length} records)`)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${row.missing} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
})
