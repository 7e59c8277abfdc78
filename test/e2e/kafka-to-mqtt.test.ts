import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { connectAsync, type MqttClient, type IClientOptions } from 'mqtt'
import { Kafka, logLevel, type Producer, type Message } from 'kafkajs'
import { startGateway } from '@flowgate/gateway'
import { rig, kafkaConfig, createTopic, uniqueTopic, collectMessages, startTestGateway, eventually, startMosquitto, type Mosquitto, type Received } from '@flowgate/testkit'

// Kafka → MQTT on real parts: records produced to a real Kafka 4 broker, a Dataflow applied through the admin API in
// the seed's shape (Kafka endpoint as source), and MQTT 5 messages read by mqtt.js from the embedded broker and from
// Debian's Mosquitto as an external destination.

const r = await rig()
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const silent = { logLevel: logLevel.NOTHING }

async function subscriber (t: Test, url: string, filter: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200, ...extra })
  t.teardown(() => client.endAsync(true))
  await client.subscribeAsync(filter, { qos: 1 })
  return client
}

function kafkaSource (groupId: string, extra = ''): string {
  return `
apiVersion: v1
kind: Secret
metadata: { name: sasl-secret, namespace: azure-iot-operations }
type: Opaque
data:
  username: ${b64(r.users['scram-sha-512'].username)}
  password: ${b64(r.users['scram-sha-512'].password)}
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata: { name: kafka-source, namespace: azure-iot-operations }
spec:
  endpointType: Kafka
  kafkaSettings:
    host: ${r.listeners.saslPlaintext}
    authentication:
      method: Sasl
      saslSettings: { saslType: ScramSha512, secretRef: sasl-secret }
    tls: { mode: Disabled }
    consumerGroupId: ${groupId}
${extra}`
}

function dataflow (topics: string[], destinationEndpoint: string, dataDestination: string, profile = 'default'): string {
  return `
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: Dataflow
metadata: { name: from-kafka, namespace: azure-iot-operations }
spec:
  profileRef: ${profile}
  mode: Enabled
  operations:
    - operationType: Source
      sourceSettings:
        endpointRef: kafka-source
        dataSources: [${topics.join(', ')}]
    - operationType: Destination
      destinationSettings:
        endpointRef: ${destinationEndpoint}
        dataDestination: ${JSON.stringify(dataDestination)}
`
}

function mosquittoEndpoint (m: Mosquitto): string {
  return `
---
apiVersion: v1
kind: Secret
metadata: { name: mosquitto-user, namespace: azure-iot-operations }
type: Opaque
stringData: { username: gateway, password: s3cret-mq }
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata: { name: mosquitto, namespace: azure-iot-operations }
spec:
  endpointType: Mqtt
  mqttSettings:
    host: 127.0.0.1:${m.port}
    tls: { mode: Disabled }
    authentication:
      method: UsernamePassword
      usernamePasswordSettings: { secretRef: mosquitto-user }
    clientIdPrefix: flowgate-test
    qos: 1
`
}

async function producer (t: Test): Promise<Producer> {
  const p = new Kafka({ ...kafkaConfig(r, 'plaintext', 'k2m-producer'), ...silent }).producer()
  await p.connect()
  t.teardown(() => p.disconnect())
  return p
}

/**
 * A new consumer group starts at the end of the topic (Kafka's default): probe records go until one arrives, so the
 * records a test counts are produced after the flow took its partitions. Probes are recognised by their key.
 */
async function warmUp (p: Producer, topic: string, partitions: number, sub: MqttClient): Promise<void> {
  let arrived = false
  const on = (_topic: string, _payload: Buffer, packet: Received[2]): void => {
    if (packet.properties?.userProperties?.Key === 'probe') arrived = true
  }
  sub.on('message', on)
  try {
    await eventually(async () => {
      await p.send({ topic, messages: Array.from({ length: partitions }, (_, partition) => ({ key: 'probe', value: 'probe', partition })) })
      await new Promise((resolve) => setTimeout(resolve, 300))
      return arrived ? true : undefined
    }, 60_000, 'the dataflow to forward a probe record')
    // Let the probes of every partition drain before counting.
    await new Promise((resolve) => setTimeout(resolve, 500))
  } finally {
    sub.off('message', on)
  }
}

const notProbe = (m: Received): boolean => m[2].properties?.userProperties?.Key !== 'probe'

const amqpString = (s: string): Buffer => Buffer.concat([Buffer.from([0xa1, Buffer.byteLength(s)]), Buffer.from(s)])
const recordWithHeaders = (seq: number): Message => ({
  key: `device-${seq}`,
  value: JSON.stringify({ seq }),
  timestamp: String(1_700_000_000_000 + seq),
  headers: {
    utf8: 'grüße',
    binary: Buffer.from([0xff, 0xfe, 0x00, 0x80]),
    oversized: Buffer.alloc(64 * 1024, 'a'),
    foo: amqpString('bar'),
    'Content Type': 'application/json'
  }
})

function checkHeaders (t: Test, [topic, payload, packet]: Received, inputTopic: string): void {
  const seq = (JSON.parse(payload.toString()) as { seq: number }).seq
  t.equal(topic, `out/${inputTopic}`, '${inputTopic} is the Kafka topic')
  t.same(packet.properties?.userProperties, {
    Key: `device-${seq}`,
    Timestamp: String(1_700_000_000_000 + seq),
    utf8: 'grüße',
    foo: 'bar'
  }, 'Key and Timestamp, UTF-8 headers, the AMQP string decoded; binary and ≥ 64 KB headers removed')
  t.equal(packet.properties?.contentType, 'application/json', 'a Content Type header restores the property')
  t.equal(packet.qos, 1)
}

t.test('records with UTF-8, binary, oversized and AMQP headers arrive on the embedded broker as MQTT 5 messages', async (t) => {
  const topic = uniqueTopic('k2m-embedded')
  await createTopic(topic, 2)
  const gw = await startTestGateway(t, startGateway)
  const sub = await subscriber(t, `mqtt://127.0.0.1:${gw.mqtt.port}`, 'out/#')
  const applied = await gw.admin.apply(kafkaSource(uniqueTopic('embedded-group')) + '---' + dataflow([topic], 'default', 'out/${inputTopic}'))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  const p = await producer(t)
  await warmUp(p, topic, 2, sub)

  const receiving = collectMessages(sub, 20)
  await p.send({ topic, messages: Array.from({ length: 20 }, (_, i) => recordWithHeaders(i)) })
  const got = (await receiving).filter(notProbe)
  t.equal(got.length, 20)
  for (const m of got) checkHeaders(t, m, topic)
  t.same(got.map(([, payload]) => (JSON.parse(payload.toString()) as { seq: number }).seq).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i))

  const status = await eventually(async () => {
    const res = await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/from-kafka')
    const s = res.body?.status
    return s?.counters?.sent >= 20 ? s : undefined
  }, 10_000, 'status counters')
  t.equal(status.counters.dropped['header-not-utf8'] >= 20, true, 'each removed binary header counted')
  t.equal(status.counters.dropped['header-too-large'] >= 20, true, 'each removed oversized header counted')
})

t.test('Mosquitto as the destination (UsernamePassword): the same MQTT 5 properties arrive', async (t) => {
  const topic = uniqueTopic('k2m-mosquitto')
  await createTopic(topic, 1)
  const m = await startMosquitto(t, { user: { username: 'gateway', password: 's3cret-mq' } })
  const sub = await subscriber(t, `mqtt://127.0.0.1:${m.port}`, 'out/#', { username: 'gateway', password: 's3cret-mq' })
  const gw = await startTestGateway(t, startGateway)
  const applied = await gw.admin.apply(kafkaSource(uniqueTopic('mosq-group')) + mosquittoEndpoint(m) + '---' + dataflow([topic], 'mosquitto', 'out/${inputTopic}'))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  const p = await producer(t)
  await warmUp(p, topic, 1, sub)

  const receiving = collectMessages(sub, 10)
  await p.send({ topic, messages: Array.from({ length: 10 }, (_, i) => recordWithHeaders(i)) })
  const got = (await receiving).filter(notProbe)
  t.same(got.map(([, payload]) => (JSON.parse(payload.toString()) as { seq: number }).seq), Array.from({ length: 10 }, (_, i) => i), 'one partition: in order')
  for (const msg of got) checkHeaders(t, msg, topic)
})

t.test('Mosquitto stopped mid-stream and the flow restarted: no record skipped (offsets committed only after PUBACK)', async (t) => {
  const topic = uniqueTopic('k2m-kill')
  const partitions = 3
  await createTopic(topic, partitions)
  const group = uniqueTopic('kill-group')
  const m = await startMosquitto(t, { user: { username: 'gateway', password: 's3cret-mq' } })
  // A persistent session: what Mosquitto queued for the subscriber survives its restart.
  const sub = await subscriber(t, `mqtt://127.0.0.1:${m.port}`, 'out/#', { username: 'gateway', password: 's3cret-mq', clean: false, clientId: `sub-${randomBytes(3).toString('hex')}`, properties: { sessionExpiryInterval: 600 } })
  const seen = new Map<number, number>()
  sub.on('message', (_topic, payload, packet) => {
    if (packet.properties?.userProperties?.Key === 'probe') return
    const seq = (JSON.parse(payload.toString()) as { seq: number }).seq
    seen.set(seq, (seen.get(seq) ?? 0) + 1)
  })
  const manifests = kafkaSource(group) + mosquittoEndpoint(m) + '---' + dataflow([topic], 'mosquitto', 'out/${inputTopic}')
  const gw1 = await startTestGateway(t, startGateway)
  t.equal((await gw1.admin.apply(manifests)).status, 200)
  const p = await producer(t)
  await warmUp(p, topic, partitions, sub)

  const total = 3000
  const produced = (async () => {
    for (let i = 0; i < total; i += 100) {
      await p.send({ topic, messages: Array.from({ length: 100 }, (_, k) => ({ key: `k${(i + k) % 7}`, value: JSON.stringify({ seq: i + k }) })) })
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  await eventually(async () => seen.size >= 300 ? true : undefined, 30_000, 'some records through')
  await m.stop()
  t.ok(seen.size < total, `Mosquitto stopped mid-stream (${seen.size}/${total} seen)`)
  await produced
  // The flow notices and reports degraded; then the whole gateway goes away without the records MQTT never acknowledged.
  await eventually(async () => {
    const res = await gw1.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/from-kafka')
    const ready = (res.body?.status?.conditions as Array<{ type: string, status: string }> | undefined)?.find((c) => c.type === 'Ready')
    return ready?.status === 'False' ? true : undefined
  }, 20_000, 'the dataflow to report degraded')
  await gw1.close()

  await m.start()
  const gw2 = await startTestGateway(t, startGateway)
  t.equal((await gw2.admin.apply(manifests)).status, 200)
  await eventually(async () => seen.size >= total ? true : undefined, 90_000, `every record (${seen.size}/${total})`)
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !seen.has(i))
  t.same(missing, [], 'no record skipped')
  const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0)
  t.comment(`duplicates after the outage and restart: ${duplicates} of ${total}`)
})

t.test('instanceCount 2: two consumers in the group share the partitions, no record handled twice in steady state', async (t) => {
  const topic = uniqueTopic('k2m-scale')
  const partitions = 4
  await createTopic(topic, partitions)
  const group = uniqueTopic('scale-group')
  const gw = await startTestGateway(t, startGateway)
  const sub = await subscriber(t, `mqtt://127.0.0.1:${gw.mqtt.port}`, 'scaled/#')
  const profile = `
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowProfile
metadata: { name: scaled, namespace: azure-iot-operations }
spec: { instanceCount: 2 }
---`
  t.equal((await gw.admin.apply(kafkaSource(group) + profile + dataflow([topic], 'default', 'scaled/${inputTopic}', 'scaled'))).status, 200)
  const admin = new Kafka({ ...kafkaConfig(r, 'plaintext', 'k2m-admin'), ...silent }).admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const members = await eventually(async () => {
    const { groups } = await admin.describeGroups([group])
    const g = groups[0]
    return g?.state === 'Stable' && g.members.length === 2 ? g.members : undefined
  }, 60_000, 'two members in the group')
  t.equal(members.length, 2, 'two consumers joined one group')
  const p = await producer(t)
  await warmUp(p, topic, partitions, sub)

  const total = 400
  const receiving = collectMessages(sub, total)
  await p.send({ topic, messages: Array.from({ length: total }, (_, i) => ({ value: JSON.stringify({ seq: i }), partition: i % partitions })) })
  const got = (await receiving).filter(notProbe)
  const seqs = got.map(([, payload]) => (JSON.parse(payload.toString()) as { seq: number }).seq)
  t.equal(new Set(seqs).size, total, 'every record once')
  t.equal(seqs.length, total, 'no duplicates')
  // Each member holds some of the 4 partitions (kafkajs' round-robin assigner: 2 each).
  const { groups } = await admin.describeGroups([group])
  t.equal(groups[0]?.members.length, 2)
})
