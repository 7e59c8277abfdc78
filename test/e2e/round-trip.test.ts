import t from 'tap'
import { connectAsync } from 'mqtt'
import { startGateway } from '@flowgate/gateway'
import { rig, createTopic, uniqueTopic, collectMessages, startTestGateway, eventually, manifests, kafkaEndpoint, dataflow } from '@flowgate/testkit'

// MQTT 5 → Kafka → MQTT 5 through one gateway: a device publishes to the embedded broker, dataflow `to-kafka` writes
// the record to Kafka, dataflow `from-kafka` reads it back and publishes it to the embedded broker again. What comes
// back is what went in — payload and every MQTT 5 property — plus the seed's `Timestamp` user property.

const r = await rig()

function roundTrip (kafkaTopic: string, group: string): string {
  return manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { consumerGroupId: group, batching: { enabled: true, latencyMs: 5 } } }),
    dataflow({ name: 'to-kafka', source: { endpointRef: 'default', dataSources: ['devices/#'] }, destination: { endpointRef: 'kafka', dataDestination: kafkaTopic } }),
    dataflow({ name: 'from-kafka', source: { endpointRef: 'kafka', dataSources: [kafkaTopic] }, destination: { endpointRef: 'default', dataDestination: 'back/${inputTopic}' } })
  )
}


t.test('an MQTT 5 message comes back from Kafka identical: payload, built-in and user properties', async (t) => {
  const kafkaTopic = uniqueTopic('round-trip')
  await createTopic(kafkaTopic, 1)
  const gw = await startTestGateway(t, startGateway)
  const applied = await gw.admin.apply(roundTrip(kafkaTopic, uniqueTopic('round-trip-group')))
  t.equal(applied.status, 200, JSON.stringify(applied.body))

  const url = `mqtt://127.0.0.1:${gw.mqtt.port}`
  const sub = await connectAsync(url, { protocolVersion: 5 })
  t.teardown(() => sub.endAsync(true))
  await sub.subscribeAsync('back/#', { qos: 1 })
  const device = await connectAsync(url, { protocolVersion: 5 })
  t.teardown(() => device.endAsync(true))

  const properties = {
    contentType: 'application/json',
    responseTopic: 'devices/oven-1/replies',
    correlationData: Buffer.from([0x00, 0xff, 0x10]),
    payloadFormatIndicator: true,
    messageExpiryInterval: 3600,
    userProperties: { site: 'lyon', line: ['a', 'b'], 'ünï': 'cödé' }
  }
  // The first dataflow's consumer group starts at the end: publish until one comes back, then compare the last one.
  const payload = (n: number): string => JSON.stringify({ temperature: 21.5, n })
  let n = 0
  const [topic, body, packet] = await eventually(async () => {
    const waiting = collectMessages(sub, 1, 1_000).catch(() => undefined)
    await device.publishAsync('devices/oven-1/telemetry', payload(n++), { qos: 1, properties })
    const got = await waiting
    return got?.[0]
  }, 60_000, 'the message back from Kafka')
  t.equal(topic, `back/${kafkaTopic}`)
  t.same(JSON.parse(body.toString()).temperature, 21.5)
  const p = packet.properties!
  t.equal(p.contentType, properties.contentType)
  t.equal(p.responseTopic, properties.responseTopic)
  t.same(Buffer.from(p.correlationData as Buffer), properties.correlationData, 'binary correlation data intact')
  t.equal(p.payloadFormatIndicator, true)
  t.ok(p.messageExpiryInterval !== undefined && p.messageExpiryInterval <= 3600 && p.messageExpiryInterval >= 3590, 'expiry restored, reduced by the time waited')
  const { Timestamp, ...user } = p.userProperties as Record<string, string | string[]>
  t.same(user, properties.userProperties, 'user properties identical, repeated names in order')
  t.match(Timestamp, /^\d{13}$/, 'the seed adds the record timestamp')
  t.equal(packet.qos, 1)
})
