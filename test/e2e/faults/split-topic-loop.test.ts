import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { connectAsync } from 'mqtt'
import { rig, createTopic, uniqueTopic, kafkaConfig, manifests, kafkaEndpoint, dataflow, eventually } from '@flowgate/testkit'
import { startSplit, sleep } from './split-harness.js'

// Topic loops in the split deployment: dataflow `in` takes `loop/#` into Kafka topic T, dataflow `out` writes T's
// records back to MQTT `loop/out/<T>` (`loop/out/${inputTopic}`) — which `loop/#` matches. A literal pair like this is
// refused at apply time (services/admin/test/topic-loops.test.ts); a templated destination depends on each record, so
// this one is caught at run time: the egress publishes into the ingress as an MQTT client, and what it publishes must
// not enter an egress subscription again, or each message would go round forever. Devices publish 20 messages: T
// holds exactly 20 records, and a subscriber sees each once on `loop/out/<T>`.

const r = await rig()

async function recordCount (topic: string): Promise<number> {
  const admin = new Kafka({ ...kafkaConfig(r, 'plaintext', 'split-loop-admin'), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try { return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0) } finally { await admin.disconnect() }
}

t.test('split: an MQTT → Kafka and a Kafka → MQTT dataflow that overlap — Flowgate\'s own publishes do not re-enter', { timeout: 90_000 }, async (t) => {
  const topic = uniqueTopic('split-loop')
  await createTopic(topic, 1)
  const split = await startSplit(t, { ingressArgs: ['--egress-grace-seconds', '0'] })
  t.equal((await split.admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { batching: { latencyMs: 5, maxMessages: 100 } } }),
    dataflow({ name: 'in', source: { endpointRef: 'default', dataSources: ['loop/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } }),
    dataflow({ name: 'out', source: { endpointRef: 'kafka', dataSources: [topic] }, destination: { endpointRef: 'default', dataDestination: 'loop/out/${inputTopic}' } })
  ))).status, 200)
  await split.startEgress(0)
  await split.egressRunning(0, 2)
  const url = `mqtt://127.0.0.1:${split.mqttPort}`
  const seen: string[] = []
  const reader = await connectAsync(url, { protocolVersion: 5, clientId: 'loop-reader' })
  t.teardown(() => reader.endAsync(true))
  await reader.subscribeAsync(`loop/out/${topic}`, { qos: 1 })
  reader.on('message', (_topic, payload) => seen.push(payload.toString()))
  await sleep(2000)

  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'loop-device' })
  t.teardown(() => device.endAsync(true))
  for (let i = 0; i < 20; i++) await device.publishAsync('loop/dev', `m-${i}`, { qos: 1 })
  await eventually(async () => seen.length >= 20 ? true : undefined, 30_000, `the Kafka → MQTT dataflow delivered (${seen.length}): ${split.log.join('').slice(-2000)}`)
  await sleep(4000)
  const records = await recordCount(topic)
  t.equal(records, 20, `T holds the devices' 20 messages only (${records} records)`)
  t.equal(seen.length, 20, `each came back on loop/out/<T> once (${seen.length})`)
})
