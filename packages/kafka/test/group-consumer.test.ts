// The group consumer commits what its handler reports delivered, and nothing more: the Kafka → MQTT promise that a
// record's offset moves only after its PUBACK. Against the rig; committed offsets read back with the admin API.
import t from 'tap'
import { Kafka } from 'kafkajs'
import { rig, createTopic, uniqueTopic } from '@flowgate/testkit'
import { createBatchingProducer } from '../src/batching-producer.js'
import { startGroupConsumer, type GroupBatch } from '../src/group-consumer.js'
import { silent, testGroupOptions } from './helpers.js'
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

async function untilCommitted (groupId: string, topic: string, offset: string): Promise<string | undefined> {
  const deadline = Date.now() + 15_000
  while (await committed(groupId, topic) !== offset && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  return await committed(groupId, topic)
}

async function topicWith (values: string[]): Promise<{ topic: string, kafka: Kafka }> {
  const topic = uniqueTopic('group-consumer')
  await createTopic(topic, 1)
  const e = listenerEndpoint(r, 'plaintext')
  const kafka = kafkaFor(e)
  const producer = createBatchingProducer(kafka, e.endpoint, { logger: silent, instanceId: 0 })
  for (const v of values) await producer.send({ topic, key: null, value: Buffer.from(v), headers: [] })
  await producer.close()
  return { topic, kafka }
}

function consume (kafka: Kafka, groupId: string, topic: string, onBatch: (b: GroupBatch) => Promise<void>) {
  return startGroupConsumer({ kafka, groupId, topics: [topic], instances: 1, options: testGroupOptions, logger: silent, retryDelay: () => 100, onBatch, onError: () => {} })
}

t.test('offsets are committed only as far as the handler reports, in partition order', async (t) => {
  const { topic, kafka } = await topicWith(['0', '1', '2', '3', '4'])
  const groupId = uniqueTopic('group')
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const seen: string[] = []
  let entered!: () => void
  const inHandler = new Promise<void>((resolve) => { entered = resolve })
  const group = consume(kafka, groupId, topic, async (b) => {
    seen.push(...b.records.map((m) => m.value!.toString()))
    entered()
    await gate // the MQTT publish has not completed yet
    await b.commit(b.records.length)
  })
  t.teardown(() => group.close())
  await inHandler
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(await committed(groupId, topic), '-1', 'nothing committed while the handler is pending')
  release()
  t.equal(await untilCommitted(groupId, topic, '5'), '5', 'committed the next offset once the handler reported all delivered')
  t.same(seen, ['0', '1', '2', '3', '4'], 'in order')
})

t.test('a handler that delivered a prefix commits the prefix; the rest is read again', async (t) => {
  const { topic, kafka } = await topicWith(['a', 'b', 'c', 'd', 'e'])
  const groupId = uniqueTopic('group')
  const batches: string[][] = []
  let done!: () => void
  const twice = new Promise<void>((resolve) => { done = resolve })
  const group = consume(kafka, groupId, topic, async (b) => {
    batches.push(b.records.map((m) => m.value!.toString()))
    if (batches.length === 1) return await b.commit(2) // 'c' failed: 'a' and 'b' delivered
    await b.commit(b.records.length)
    done()
  })
  t.teardown(() => group.close())
  await twice
  t.same(batches, [['a', 'b', 'c', 'd', 'e'], ['c', 'd', 'e']], 'the undelivered rest came again, from the first undelivered record')
  t.equal(await untilCommitted(groupId, topic, '5'), '5')
})

t.test('a handler that throws commits nothing and the batch is delivered again', async (t) => {
  const { topic, kafka } = await topicWith(['once'])
  const groupId = uniqueTopic('group')
  let calls = 0
  let done!: () => void
  const twice = new Promise<void>((resolve) => { done = resolve })
  const group = consume(kafka, groupId, topic, async (b) => {
    calls++
    if (calls === 1) throw new Error('MQTT publish failed')
    await b.commit(b.records.length)
    done()
  })
  t.teardown(() => group.close())
  await twice
  t.equal(calls, 2, 'redelivered after the failure')
  t.equal(await untilCommitted(groupId, topic, '1'), '1')
})

t.test('without fromBeginning a topic new to the group starts at its end: only records written after the start', async (t) => {
  const { topic, kafka } = await topicWith(['old-1', 'old-2'])
  const groupId = uniqueTopic('group')
  const seen: string[] = []
  const group = startGroupConsumer({
    kafka, groupId, topics: [topic], instances: 1, options: { ...testGroupOptions, fromBeginning: false }, logger: silent, retryDelay: () => 100, onError: () => {},
    onBatch: async (b) => { seen.push(...b.records.map((m) => m.value!.toString())); await b.commit(b.records.length) }
  })
  t.teardown(() => group.close())
  await group.joined
  const e = listenerEndpoint(r, 'plaintext')
  const producer = createBatchingProducer(kafka, e.endpoint, { logger: silent, instanceId: 0 })
  await producer.send({ topic, key: null, value: Buffer.from('new'), headers: [] })
  await producer.close()
  t.equal(await untilCommitted(groupId, topic, '3'), '3')
  t.same(seen, ['new'])
})

t.test('what was delivered before a close is committed when close resolves (commits leave in the background)', async (t) => {
  const { topic, kafka } = await topicWith(['0', '1', '2', '3', '4'])
  const groupId = uniqueTopic('group')
  let delivered!: () => void
  const all = new Promise<void>((resolve) => { delivered = resolve })
  const group = consume(kafka, groupId, topic, async (b) => {
    await b.commit(b.records.length)
    if (b.records.at(-1)!.value!.toString() === '4') delivered()
  })
  await all
  await group.close()
  t.equal(await committed(groupId, topic), '5', 'read back at once, no waiting')
})
