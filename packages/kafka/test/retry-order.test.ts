import t, { type Test } from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { startBrokerBehindProxy } from '@flowgate/testkit'
import { createBatchingProducer } from '../src/batching-producer.js'
import type { KafkaBatching } from '../src/types.js'
import { endpoint, silent } from './helpers.js'
import { kafkaFor } from './rig-helpers.js'

// After a retriable send failure the caller retries the failed records; nothing sent after them may land first, or
// a key's order breaks. Two ways that happened: records lingering for their batch went out on the fresh producer,
// and the later chunks of a batch split under max.message.bytes were sent after the first chunk failed. A broker of
// this file's own behind the fault proxy answers one Produce with OUT_OF_ORDER_SEQUENCE_NUMBER (retriable: the
// producer is replaced).

const { proxy, broker, close } = await startBrokerBehindProxy()
t.teardown(close)

let topics = 0
/** Records stored in the one-partition topic (its high watermark). */
async function storedCount (topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'retry-order-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    return Number((await admin.fetchTopicOffsets(topic))[0]!.high)
  } finally {
    await admin.disconnect()
  }
}

async function createTopic (configs: Array<{ name: string, value: string }> = []): Promise<string> {
  const topic = `retry-order-${process.pid}-${topics++}`
  const admin = new Kafka({ clientId: 'retry-order-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: configs }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  return topic
}

function openProducer (t: Test, batching: KafkaBatching): ReturnType<typeof createBatchingProducer> {
  const e = { endpoint: endpoint({ host: `127.0.0.1:${proxy.port}`, batching }), secrets: {} }
  const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
  t.teardown(() => producer.close())
  return producer
}

/** One record sent and stored first: metadata known and connections open before the fault. */
async function warmUp (producer: ReturnType<typeof createBatchingProducer>, topic: string): Promise<void> {
  const sent = producer.send(record(topic, -1))
  await producer.flush()
  await sent
}

type Outcome = 'acked' | 'failed'
const outcome = (p: Promise<unknown>): Promise<Outcome> => p.then(() => 'acked' as const, () => 'failed' as const)
const record = (topic: string, i: number, size = 10): { topic: string, key: Buffer, value: Buffer, headers: [] } =>
  ({ topic, key: Buffer.from('k'), value: Buffer.from(String(i).padEnd(size, '.')), headers: [] })

t.test('records lingering for their batch fail with the batch that failed before them', async (t) => {
  const topic = await createTopic()
  const producer = openProducer(t, { mode: 'Enabled', latencyMs: 60_000, maxMessages: 5, maxBytes: 1_000_000 })
  await producer.connect()
  await warmUp(producer, topic)
  proxy.delay(300) // the failing answer comes after the next records have started lingering
  proxy.failNextProduce(45, { topic })
  const full = Array.from({ length: 5 }, (_, i) => outcome(producer.send(record(topic, i))))
  const lingering = Array.from({ length: 2 }, (_, i) => outcome(producer.send(record(topic, 5 + i))))
  t.same(await Promise.all(full), Array(5).fill('failed'), 'the full batch failed (error 45)')
  proxy.delay(0)
  // Their latency runs out later, once the failure has been handled and the producer replaced.
  await new Promise((resolve) => setTimeout(resolve, 100))
  await producer.flush()
  t.same(await Promise.all(lingering), ['failed', 'failed'], 'the records behind it failed too, so the caller retries all in order')
  // The proxy rewrote the answer of a Produce the broker did store: the failed batch is there (the caller's retry
  // will add it again, at least once); what lingered behind it must not be.
  t.equal(await storedCount(topic), 1 + 5, 'only the warm-up record and the failed batch reached the topic')
})

t.test('the later chunks of a batch split under max.message.bytes are not sent after the first failed', async (t) => {
  const topic = await createTopic([{ name: 'max.message.bytes', value: '4000' }])
  const producer = openProducer(t, { mode: 'Enabled', latencyMs: 60_000, maxMessages: 9, maxBytes: 1_000_000 })
  await producer.connect()
  await warmUp(producer, topic)
  proxy.failNextProduce(45, { topic })
  // Nine records of ~1 KB: three requests under the topic's 4,000 bytes.
  const sent = await Promise.all(Array.from({ length: 9 }, (_, i) => outcome(producer.send(record(topic, i, 1000)))))
  t.same(sent, Array(9).fill('failed'), 'every chunk failed with the first')
  t.equal(await storedCount(topic), 1 + 3, 'only the warm-up record and the failed first chunk reached the topic')
})
