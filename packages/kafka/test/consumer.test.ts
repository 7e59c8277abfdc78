import t from 'tap'
import { Kafka } from 'kafkajs'
import { rig, createTopic, uniqueTopic } from '@flowgate/testkit'
import { createBatchingProducer } from '../src/batching-producer.js'
import { createSourceConsumer, type SourceBatch } from '../src/consumer.js'
import { silent } from './helpers.js'
import { listenerEndpoint, kafkaFor } from './rig-helpers.js'

const r = await rig()

async function committed (groupId: string, topic: string): Promise<string | undefined> {
  const admin = new Kafka({ brokers: [r.listeners.plaintext], logLevel: 0 }).admin()
  await admin.connect()
  try {
    const [res] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return res?.partitions[0]?.offset
  } finally {
    await admin.disconnect()
  }
}

t.test('offsets are committed only after the handler resolved, in partition order', async (t) => {
  const topic = uniqueTopic('source')
  await createTopic(topic, 1)
  const e = listenerEndpoint(r, 'plaintext')
  const kafka = kafkaFor(e)
  const producer = createBatchingProducer(kafka, e.endpoint, { logger: silent, instanceId: 0 })
  await Promise.all(Array.from({ length: 5 }, (_, i) => producer.send({ topic, key: null, value: Buffer.from(String(i)), headers: [] })))
  await producer.close()

  const groupId = uniqueTopic('group')
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const seen: string[] = []
  let entered!: () => void
  const inHandler = new Promise<void>((resolve) => { entered = resolve })
  const consumer = createSourceConsumer(kafka, { ...e.endpoint, consumerGroupId: groupId }, {
    topics: [topic],
    fromBeginning: true,
    onBatch: async (b: SourceBatch) => {
      seen.push(...b.messages.map((m) => m.value!.toString()))
      entered()
      await gate // the MQTT publish has not completed yet
    }
  })
  t.teardown(() => consumer.stop())
  await consumer.start()
  await inHandler
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(await committed(groupId, topic), '-1', 'nothing committed while the handler is pending')
  release()
  const deadline = Date.now() + 15_000
  while (await committed(groupId, topic) !== '5' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await committed(groupId, topic), '5', 'committed the next offset after the handler resolved')
  t.same(seen, ['0', '1', '2', '3', '4'], 'in order')
})

t.test('a failing handler commits nothing and the batch is delivered again', async (t) => {
  const topic = uniqueTopic('source-retry')
  await createTopic(topic, 1)
  const e = listenerEndpoint(r, 'plaintext')
  const kafka = kafkaFor(e)
  const producer = createBatchingProducer(kafka, e.endpoint, { logger: silent, instanceId: 0 })
  await producer.send({ topic, key: null, value: Buffer.from('once'), headers: [] })
  await producer.close()
  const groupId = uniqueTopic('group')
  let calls = 0
  let done!: () => void
  const twice = new Promise<void>((resolve) => { done = resolve })
  const consumer = createSourceConsumer(kafka, { ...e.endpoint, consumerGroupId: groupId }, {
    topics: [topic],
    fromBeginning: true,
    onBatch: async () => {
      calls++
      if (calls === 1) throw new Error('MQTT publish failed')
      done()
    }
  })
  t.teardown(() => consumer.stop())
  await consumer.start()
  await twice
  t.equal(calls, 2, 'redelivered after the failure')
  const deadline = Date.now() + 15_000
  while (await committed(groupId, topic) !== '1' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await committed(groupId, topic), '1')
})
