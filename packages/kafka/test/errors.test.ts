import t from 'tap'
import { Kafka } from 'kafkajs'
import { rig, createTopic, uniqueTopic, readRecords } from '@flowgate/testkit'
import { createBatchingProducer } from '../src/batching-producer.js'
import { KafkaEndpointError } from '../src/errors.js'
import { kafkaConfig } from '../src/client-config.js'
import { silent } from './helpers.js'
import { listenerEndpoint, kafkaFor } from './rig-helpers.js'

const r = await rig()

async function topicWithLimit (maxMessageBytes: number): Promise<string> {
  const topic = uniqueTopic('large')
  const admin = new Kafka({ brokers: [r.listeners.plaintext], logLevel: 0 }).admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  return topic
}

for (const compression of ['None', 'Gzip'] as const) {
  t.test(`a too-large record fails alone with FG_ERR_KAFKA_TOO_LARGE; its batch neighbours are delivered (${compression})`, async (t) => {
    const topic = await topicWithLimit(20_000)
    const e = listenerEndpoint(r, 'plaintext', { compression, batching: { mode: 'Enabled', latencyMs: 50, maxMessages: 100, maxBytes: 1_000_000 } })
    const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
    t.teardown(() => producer.close())
    const { randomBytes } = await import('node:crypto')
    const big = randomBytes(50_000) // incompressible: too large compressed too
    const sends = [Buffer.from('before'), big, Buffer.from('after')].map((value, i) => producer.send({ topic, key: Buffer.from(`k${i}`), value, headers: [] }).then((x) => x, (err: unknown) => err))
    const [before, failed, after] = await Promise.all(sends)
    t.ok(failed instanceof KafkaEndpointError)
    t.match(failed, { code: 'FG_ERR_KAFKA_TOO_LARGE', permanent: true })
    t.match(before, { offset: String }, 'the record before it was acknowledged')
    t.match(after, { offset: String }, 'the record after it was acknowledged')
    const stored = await readRecords(topic, 2)
    t.same(stored.map((x) => x.value?.toString()).sort(), ['after', 'before'])
    t.equal(producer.counters.errors.FG_ERR_KAFKA_TOO_LARGE, 1)
  })
}

t.test('a missing topic fails within seconds with FG_ERR_KAFKA_TOPIC_MISSING (no auto-creation)', async (t) => {
  const e = listenerEndpoint(r, 'plaintext')
  const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
  t.teardown(() => producer.close())
  const topic = uniqueTopic('missing')
  const started = Date.now()
  const err = await producer.send({ topic, key: null, value: Buffer.from('x'), headers: [] }).then(() => null, (x: unknown) => x)
  t.match(err, { code: 'FG_ERR_KAFKA_TOPIC_MISSING', permanent: true })
  t.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`)
  // Another topic on the same producer is unaffected.
  const ok = uniqueTopic('present')
  await createTopic(ok, 1)
  t.match(await producer.send({ topic: ok, key: null, value: Buffer.from('y'), headers: [] }), { offset: '0' })
})

t.test('an unreachable broker fails with FG_ERR_KAFKA_UNREACHABLE, retriable', async (t) => {
  const { createServer } = await import('node:net')
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve)) // a port nobody listens on
  const e = listenerEndpoint(r, 'plaintext', { host: `127.0.0.1:${port}` })
  const kafka = new Kafka({ ...kafkaConfig(e.endpoint, {}, { clientId: 't', logger: silent }), retry: { retries: 0 } })
  const producer = createBatchingProducer(kafka, e.endpoint, { logger: silent, instanceId: 0 })
  t.teardown(() => producer.close())
  const err = await producer.send({ topic: 'any', key: null, value: Buffer.from('x'), headers: [] }).then(() => null, (x: unknown) => x)
  t.match(err, { code: 'FG_ERR_KAFKA_UNREACHABLE', permanent: false })
})

t.test('after close, sends are refused with FG_ERR_KAFKA_CLOSED and buffered records were flushed', async (t) => {
  const topic = uniqueTopic('close')
  await createTopic(topic, 1)
  const e = listenerEndpoint(r, 'plaintext', { batching: { mode: 'Enabled', latencyMs: 60_000, maxMessages: 1000, maxBytes: 1_000_000 } })
  const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
  const pending = producer.send({ topic, key: null, value: Buffer.from('buffered'), headers: [] })
  await producer.close()
  t.match(await pending, { offset: '0' }, 'close flushed the buffer')
  await t.rejects(producer.send({ topic, key: null, value: Buffer.from('late'), headers: [] }), { code: 'FG_ERR_KAFKA_CLOSED' })
})
