import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { rig, uniqueTopic, kcatConsume, manifests, kafkaEndpoint, dataflow, startDeviceLoad, checkAgainstKafka, reportFault, startBrokerBehindProxy, eventually } from '@flowgate/testkit'
import { startSplit, egressLedger, sleep } from './split-harness.js'

// The split deployment's promise with ONE egress WITHOUT --shared (the README's own split command: it subscribes to
// the ingress with a plain subscription) while Kafka is black-holed: the ingress must not acknowledge a device's
// publish before the egress has it in Kafka. Devices (MQTT 5 and 3.1.1) publish QoS 1 sequence numbers at ~600 msg/s;
// the Kafka endpoint is a broker of this file's own behind the fault proxy. While it is black-holed the devices get
// no PUBACK; once healed, every message that got a success PUBACK is in Kafka (read with kcat).

const r = await rig()
const { proxy, broker, via, close } = await startBrokerBehindProxy()
t.teardown(close)
const devices = [
  { clientId: 'v5-a', protocolVersion: 5 as const }, { clientId: 'v5-b', protocolVersion: 5 as const },
  { clientId: 'v3-a', protocolVersion: 4 as const }, { clientId: 'v3-b', protocolVersion: 4 as const }
]

t.test('split, one egress without --shared, Kafka black-holed: no PUBACK until Kafka has the messages; healed, every acknowledged message in Kafka', { timeout: 90_000 }, async (t) => {
  const topic = uniqueTopic('split-blackhole')
  const kafkaAdmin = new Kafka({ clientId: 'split-blackhole-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin()
  await kafkaAdmin.connect()
  await kafkaAdmin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
  await kafkaAdmin.disconnect()

  const split = await startSplit(t, { ingressArgs: ['--egress-grace-seconds', '0'] })
  t.equal((await split.admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka', host: via, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs: 5, maxMessages: 500 } } }),
    dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  ))).status, 200)
  await split.startEgress(0)
  await split.egressRunning(0, 1)
  await sleep(500)

  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${split.mqttPort}`, prefix: 'load', devices, rate: 150, persistent: true })
  t.teardown(() => load.close())
  await eventually(async () => load.acked.size > 600 ? true : undefined, 20_000, `load acknowledged (${load.acked.size}): ${split.log.join('').slice(-2000)}`)

  proxy.blackHole(true)
  // What was on its way when the partition began may still be answered: then the acknowledgements stop.
  await sleep(1500)
  const atPartition = load.acked.size
  const sentAtPartition = load.sent
  await sleep(6000)
  const duringPartition = load.acked.size - atPartition
  t.comment(`black hole: ${duringPartition} acknowledged in 6 s (${load.sent - sentAtPartition} sent meanwhile)`)
  t.equal(duringPartition, 0, 'no device got a PUBACK while Kafka was unreachable')

  proxy.blackHole(false)
  await eventually(async () => load.acked.size > atPartition + 1500 ? true : undefined, 60_000, `acknowledgements resumed after healing (${load.acked.size}, ${atPartition} at the partition): ${split.log.join('').slice(-3000)}`)
  await load.stop()
  await sleep(1000)

  const records = await kcatConsume(r, 'plaintext', topic, load.sent * 2 + 1000, { bootstrap: broker.bootstrap })
  const check = checkAgainstKafka(load.acked, records)
  const row = reportFault(t, 'split: one egress without --shared, Kafka black-holed', check)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${row.missing} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  // Every message the egress received is sent or dropped (nothing left buffered once the load stopped).
  const ledger = await eventually(async () => {
    const l = await egressLedger(split.egressPort(0), 'load')
    return l.buffered === 0 ? l : undefined
  }, 10_000, 'the egress\' buffer empty')
  t.equal(ledger.received, ledger.sent + ledger.dropped, `the egress' ledger balances: ${JSON.stringify(ledger)}`)
})
