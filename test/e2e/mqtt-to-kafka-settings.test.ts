import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connectAsync, type MqttClient } from 'mqtt'
import { startGateway } from '@flowgate/gateway'
import { javaCompatiblePartition } from '@flowgate/translate'
import { registerCodecs } from '@flowgate/kafka'
import { rig, createTopic, readRecords, uniqueTopic, kcatConsume, storedBatches, javaPartitions, startTestGateway, eventually, testWorkers } from '@flowgate/testkit'

// Each compression, partition strategy and acks value of the seed, through the gateway into the real broker, from
// mqtt.js v5, mqtt.js v3.1.1 and Debian's mosquitto_pub; read back by kafkajs, kcat and Kafka's DumpLogSegments.

const r = await rig()
// This process reads back Snappy and LZ4 batches itself (kafkajs has only gzip built in), gateway in it or not.
registerCodecs()

interface Case { name: string, settings: string, partitions: number }
const cases: Case[] = [
  { name: 'gzip', settings: 'compression: Gzip', partitions: 1 },
  { name: 'snappy', settings: 'compression: Snappy', partitions: 1 },
  { name: 'lz4', settings: 'compression: Lz4', partitions: 1 },
  { name: 'none', settings: 'compression: None', partitions: 1 },
  { name: 'default', settings: 'partitionStrategy: Default', partitions: 6 },
  { name: 'static', settings: 'partitionStrategy: Static', partitions: 6 },
  { name: 'topic', settings: 'partitionStrategy: Topic', partitions: 6 },
  { name: 'property', settings: 'partitionStrategy: Property\n    partitionKeyProperty: device-id', partitions: 6 },
  { name: 'acks-zero', settings: 'kafkaAcks: Zero', partitions: 1 },
  { name: 'acks-one', settings: 'kafkaAcks: One', partitions: 1 },
  { name: 'acks-all', settings: 'kafkaAcks: All', partitions: 1 }
]

const topics = Object.fromEntries(cases.map((c) => [c.name, uniqueTopic(`set-${c.name}`)]))
for (const c of cases) await createTopic(topics[c.name]!, c.partitions)

const manifests = cases.map((c) => `
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata: { name: kafka-${c.name}, namespace: default }
spec:
  endpointType: Kafka
  kafkaSettings:
    host: ${r.listeners.plaintext}
    tls: { mode: Disabled }
    batching: { latencyMs: 20 }
    ${c.settings}
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: Dataflow
metadata: { name: df-${c.name}, namespace: default }
spec:
  operations:
    - { operationType: Source, sourceSettings: { endpointRef: default, dataSources: [ 'set/${c.name}/#' ] } }
    - { operationType: Destination, destinationSettings: { endpointRef: kafka-${c.name}, dataDestination: ${topics[c.name]} } }`).join('\n---\n')

t.test('the seed\'s compression, partition and acks settings through the gateway', async (t) => {
  const gw = await startTestGateway(t, startGateway, { instanceId: '4' })
  const applied = await gw.admin.apply(manifests)
  t.equal(applied.status, 200, applied.status === 200 ? 'the matrix applies' : JSON.stringify(applied.body).slice(0, 1500))
  for (const c of cases) {
    await eventually(async () => (await gw.admin.get(`/api/v1/namespaces/default/dataflows/df-${c.name}`)).body.status?.conditions?.[0]?.status === 'True' ? true : undefined, 20_000, `df-${c.name} Ready`)
  }
  const v5 = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5 })
  const v311 = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 4 })
  t.teardown(async () => { await v5.endAsync(); await v311.endAsync() })

  async function mosquittoPub (topic: string, message: string, userProperty?: [string, string]): Promise<void> {
    const child = spawn('mosquitto_pub', ['-V', 'mqttv5', '-h', '127.0.0.1', '-p', String(gw.mqtt.port), '-q', '1', '-t', topic, '-m', message,
      ...(userProperty ? ['-D', 'publish', 'user-property', ...userProperty] : [])])
    const [code] = await once(child, 'exit')
    if (code !== 0) throw new Error(`mosquitto_pub exited ${String(code)}`)
  }

  async function publishFromEachClient (c: Case, count: number, props: (i: number) => Record<string, string> = () => ({})): Promise<void> {
    const clients: MqttClient[] = [v5, v311]
    for (let i = 0; i < count; i++) {
      const topic = `set/${c.name}/dev-${i % 4}`
      const userProperties = props(i)
      if (i % 3 === 2) await mosquittoPub(topic, `m${i}`, Object.entries(userProperties)[0])
      else await clients[i % 3]!.publishAsync(topic, `m${i}`, { qos: 1, ...(i % 3 === 0 && Object.keys(userProperties).length > 0 ? { properties: { userProperties } } : {}) })
    }
  }

  await t.test('each compression codec is what the broker stores, and both kafkajs and kcat read it back', async (t) => {
    for (const codec of ['gzip', 'snappy', 'lz4', 'none']) {
      const c = cases.find((x) => x.name === codec)!
      // One publish at a time would make one batch each; publish concurrently so batches hold several records.
      await Promise.all(Array.from({ length: 12 }, (_, i) => v5.publishAsync(`set/${codec}/a`, `record ${i} ${'x'.repeat(200)}`, { qos: 1 })))
      const records = await readRecords(topics[codec]!, 12)
      t.equal(records.length, 12, `${codec}: kafkajs reads all`)
      t.equal((await kcatConsume(r, 'plaintext', topics[codec]!, 12)).length, 12, `${codec}: kcat reads all`)
      const batches = await storedBatches(r, topics[codec]!)
      t.ok(batches.length >= 1 && batches.every((b) => b.codec === codec), `${codec}: stored as ${[...new Set(batches.map((b) => b.codec))].join(',')}`)
    }
  })

  await t.test('partition strategies: Topic and Property keys land where the Java client puts them; Static on instanceId mod partitions; Default spreads', async (t) => {
    await publishFromEachClient(cases.find((c) => c.name === 'topic')!, 12)
    const byTopic = await readRecords(topics.topic!, 12)
    const javaTopic = await javaPartitions(r, byTopic.map((x) => x.key!.toString()), 6)
    t.same(byTopic.map((x) => x.partition), javaTopic, 'Topic: key = MQTT topic, partition = Java murmur2')
    t.same(byTopic.map((x) => x.key?.toString()), byTopic.map((x) => `set/topic/dev-${Number(x.value!.toString().slice(1)) % 4}`))

    await publishFromEachClient(cases.find((c) => c.name === 'property')!, 12, (i) => ({ 'device-id': `sensor-${i % 5}` }))
    const byProperty = await readRecords(topics.property!, 12)
    for (const x of byProperty) {
      const i = Number(x.value!.toString().slice(1))
      // mqtt.js v3.1.1 has no user properties: its records fall back to Default (no key).
      if (i % 3 === 1) t.equal(x.key, null, `m${i} from v3.1.1: no property, no key`)
      else {
        t.equal(x.key?.toString(), `sensor-${i % 5}`, `m${i}: key from the device-id property`)
        t.equal(x.partition, javaCompatiblePartition(x.key!, 6), `m${i}: Java's partition for its key`)
      }
    }

    await publishFromEachClient(cases.find((c) => c.name === 'static')!, 6)
    // `flowgate start --instance-id 4 --workers N` makes its workers instances 4N … 4N+N−1, each writing to its own.
    const workers = testWorkers()
    const allowed = Array.from({ length: workers }, (_, i) => (4 * workers + i) % 6)
    const staticPartitions = [...new Set((await readRecords(topics.static!, 6)).map((x) => x.partition))]
    t.ok(staticPartitions.length >= 1 && staticPartitions.every((p) => allowed.includes(p)), `Static: instance 4 → partition ${allowed.join(' or ')} (got ${staticPartitions.join(', ')})`)

    await publishFromEachClient(cases.find((c) => c.name === 'default')!, 24)
    t.ok(new Set((await readRecords(topics.default!, 24)).map((x) => x.partition)).size >= 3, 'Default: keyless records spread over partitions')
  })

  await t.test('each acks value delivers from every client', async (t) => {
    for (const name of ['acks-zero', 'acks-one', 'acks-all']) {
      await publishFromEachClient(cases.find((c) => c.name === name)!, 6)
      t.same((await readRecords(topics[name]!, 6)).map((x) => x.value?.toString()).sort(), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'], `${name}: all six`)
    }
  })
})
