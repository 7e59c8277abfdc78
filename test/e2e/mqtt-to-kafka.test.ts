import t from 'tap'
import { connectAsync } from 'mqtt'
import { startGateway } from '@flowgate/gateway'
import { rig, createTopic, readRecords, uniqueTopic, kcatConsume, startTestGateway, eventually, manifests, kafkaEndpoint, dataflow, secret } from '@flowgate/testkit'

// The product's main job, end to end on real parts: YAML in the seed's shape applied through the admin API, an MQTT 5
// device publishing to the embedded broker, and the record read back from a real Kafka 4 broker — by kafkajs and by kcat.

const r = await rig()

/** The seed's SASL endpoint (SCRAM-SHA-256 from a Secret) and a Dataflow from the embedded broker's `factory/#` to it. */
function seedFlow (topic: string, settings: Record<string, unknown> = {}): string {
  return manifests(
    secret('sasl-secret', { username: r.users['scram-sha-256'].username, password: r.users['scram-sha-256'].password }),
    kafkaEndpoint({ name: 'kafka', host: r.listeners.saslPlaintext, authentication: { method: 'Sasl', saslSettings: { saslType: 'ScramSha256', secretRef: 'sasl-secret' } }, settings: { consumerGroupId: 'mqConnector', ...settings } }),
    dataflow({ name: 'my-dataflow', source: { endpointRef: 'default', dataSources: ['factory/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  )
}


t.test('an MQTT 5 publish lands in Kafka with the seed\'s headers, acknowledged only after Kafka acknowledged it', async (t) => {
  const topic = uniqueTopic('e2e-m2k')
  await createTopic(topic, 3)
  const gw = await startTestGateway(t, startGateway)
  const applied = await gw.admin.apply(seedFlow(topic, { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', compression: 'Gzip' }))
  t.equal(applied.status, 200, JSON.stringify(applied.body))

  const status = await eventually(async () => {
    const { body } = await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/my-dataflow')
    const ready = body.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')
    return ready?.status === 'True' ? body.status : undefined
  }, 20_000, 'the dataflow to be Ready')
  t.ok(status, 'dataflow status Ready through the admin API')

  const device = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5, clientId: 'oven-1' })
  t.teardown(() => device.endAsync())
  await device.publishAsync('factory/oven/temp', '{"t":21.5}', {
    qos: 1,
    properties: {
      payloadFormatIndicator: true,
      contentType: 'application/json',
      responseTopic: 'factory/oven/replies',
      correlationData: Buffer.from([1, 2, 3, 255]),
      messageExpiryInterval: 3600,
      userProperties: { 'device-id': 'oven-1', site: 'north' }
    }
  })

  const [record] = await readRecords(topic, 1)
  t.equal(record?.value?.toString(), '{"t":21.5}')
  t.equal(record?.key?.toString(), 'oven-1', 'partitionStrategy Property: the record key is the device-id property')
  const headers = new Map(record?.headers.map(([k, v]) => [k, v]))
  t.equal(headers.get('Payload Format Indicator')?.toString(), '1')
  t.equal(headers.get('Content Type')?.toString(), 'application/json')
  t.equal(headers.get('Response Topic')?.toString(), 'factory/oven/replies')
  t.same(headers.get('Correlation Data'), Buffer.from([1, 2, 3, 255]), 'correlation data as raw bytes')
  const expiry = Number(headers.get('Message Expiry Interval')?.toString())
  t.ok(expiry > 3590 && expiry <= 3600, `Message Expiry Interval reduced by the time queued (${expiry})`)
  t.equal(headers.get('device-id')?.toString(), 'oven-1', 'user properties become headers')
  t.equal(headers.get('site')?.toString(), 'north')

  const [fromKcat] = await kcatConsume(r, 'plaintext', topic, 1)
  t.equal(fromKcat?.payload, '{"t":21.5}', 'kcat (librdkafka) reads the gzip batch Flowgate wrote')
  t.equal(fromKcat?.partition, record?.partition)

  const metrics = (await gw.admin.get('/metrics')).body as string
  t.match(metrics, /aio_dataflow_messages_sent_total\{namespace="azure-iot-operations",dataflow="my-dataflow"\} 1/)
})

t.test('a publish to a missing Kafka topic is refused to an MQTT 5 device with a reason code, and counted', async (t) => {
  const gw = await startTestGateway(t, startGateway)
  const applied = await gw.admin.apply(seedFlow(uniqueTopic('never-created')))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  await eventually(async () => (await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/my-dataflow')).body.status?.conditions?.[0]?.status === 'True' ? true : undefined)
  const device = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => device.endAsync())
  let reasonString: string | undefined
  device.on('packetreceive', (p) => { if (p.cmd === 'puback') reasonString = p.properties?.reasonString })
  await t.rejects(device.publishAsync('factory/x', 'lost?', { qos: 1 }), { code: 0x90 }, 'PUBACK 0x90 Topic Name invalid')
  t.match(reasonString, /topic-missing/)
  const metrics = (await gw.admin.get('/metrics')).body as string
  t.match(metrics, /aio_dataflow_messages_dropped_total\{namespace="azure-iot-operations",dataflow="my-dataflow",reason="topic-missing"\} 1/)
})

t.test('a publish two dataflows take goes to both, and the device hears of the one that refused it', async (t) => {
  const delivered = uniqueTopic('e2e-two-ok')
  await createTopic(delivered, 1)
  const gw = await startTestGateway(t, startGateway)
  const second = dataflow({ name: 'second-dataflow', source: { endpointRef: 'default', dataSources: ['factory/#'] }, destination: { endpointRef: 'kafka', dataDestination: uniqueTopic('never-created') } })
  const applied = await gw.admin.apply(JSON.stringify([...JSON.parse(seedFlow(delivered)) as object[], second]))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  for (const name of ['my-dataflow', 'second-dataflow']) {
    await eventually(async () => (await gw.admin.get(`/api/v1/namespaces/azure-iot-operations/dataflows/${name}`)).body.status?.conditions?.[0]?.status === 'True' ? true : undefined, 20_000, `${name} Ready`)
  }
  const device = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => device.endAsync())
  await t.rejects(device.publishAsync('factory/both', 'twice', { qos: 1 }), { code: 0x90 }, 'the device hears of the refusal')
  const [record] = await readRecords(delivered, 1)
  t.equal(record?.value?.toString(), 'twice', 'the other dataflow delivered it all the same')
  const metrics = (await gw.admin.get('/metrics')).body as string
  t.match(metrics, /aio_dataflow_messages_dropped_total\{namespace="azure-iot-operations",dataflow="second-dataflow",reason="topic-missing"\} 1/)
  t.match(metrics, /aio_dataflow_messages_sent_total\{namespace="azure-iot-operations",dataflow="my-dataflow"\} 1/)
})

t.test('endpoints carry a status derived from the dataflows that use them', async (t) => {
  const topic = uniqueTopic('e2e-endpoint-status')
  await createTopic(topic, 1)
  const gw = await startTestGateway(t, startGateway)
  t.equal((await gw.admin.apply(seedFlow(topic))).status, 200)
  const ready = await eventually(async () => {
    const { body } = await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflowendpoints/kafka')
    return body.status?.conditions?.[0]?.status === 'True' ? body.status : undefined
  }, 20_000, 'the kafka endpoint to be Ready')
  t.same(ready.dataflows, ['my-dataflow'], 'names the dataflows that reach it')
  t.equal(ready.conditions[0].reason, 'InUse')
  const unused = await eventually(async () => {
    const { body } = await gw.admin.get('/api/v1/namespaces/default/dataflowendpoints/default')
    return body.status?.conditions?.[0]?.reason === 'NotInUse' ? body.status : undefined
  }, 20_000, 'the unused default endpoint to say so')
  t.equal(unused.conditions[0].status, 'Unknown')
})

t.test('a bad credential makes its dataflow Degraded with the cause, while other dataflows keep flowing', async (t) => {
  const good = uniqueTopic('e2e-good')
  await createTopic(good, 1)
  const gw = await startTestGateway(t, startGateway)
  t.equal((await gw.admin.apply(seedFlow(good))).status, 200)
  const bad = manifests(
    secret('wrong-secret', { username: r.users['scram-sha-256'].username, password: 'not-the-password' }),
    kafkaEndpoint({ name: 'kafka-bad', host: r.listeners.saslPlaintext, authentication: { method: 'Sasl', saslSettings: { saslType: 'ScramSha256', secretRef: 'wrong-secret' } } }),
    dataflow({ name: 'bad-credentials', source: { endpointRef: 'default', dataSources: ['other/#'] }, destination: { endpointRef: 'kafka-bad', dataDestination: good } })
  )
  t.equal((await gw.admin.apply(bad)).status, 200)
  const device = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => device.endAsync(true)) // its publish is never acknowledged: a graceful end would wait for it
  // The bad dataflow's publish waits (retried with backoff); the good one goes through meanwhile.
  void device.publishAsync('other/x', 'never delivered', { qos: 1 }).catch(() => {})
  const degraded = await eventually(async () => {
    const { body } = await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/bad-credentials')
    const c = body.status?.conditions?.find((x: { type: string }) => x.type === 'Ready')
    return c?.status === 'False' ? c : undefined
  }, 30_000, 'the bad dataflow to report its cause')
  t.equal(degraded.reason, 'AuthenticationFailed')
  // Another device: PUBACKs on one connection leave in publish order (MQTT 5 §4.6), so the held publish would hold it.
  const other = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => other.endAsync())
  await other.publishAsync('factory/ok', 'still flowing', { qos: 1 })
  const [record] = await readRecords(good, 1)
  t.equal(record?.value?.toString(), 'still flowing')
})
