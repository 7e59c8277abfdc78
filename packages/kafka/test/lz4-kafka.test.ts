import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Kafka } from 'kafkajs'
import { rig, createTopic, readRecords, uniqueTopic, kcatArgs, kcatConsume, kafkaConfig } from '@flowgate/testkit'
import { createBatchingProducer } from '../src/batching-producer.js'
import { registerCodecs } from '../src/codecs.js'
import { silent } from './helpers.js'
import { listenerEndpoint, kafkaFor, storedBatches } from './rig-helpers.js'
import { telemetry } from './lz4-telemetry.js'

// LZ4 frames that other writers make, read by ours (lz4-napi through kafkajs), and our largest frames read by them:
// the broker's own (Java's KafkaLZ4BlockOutputStream, when a topic's compression.type recompresses), librdkafka's
// (kcat -z lz4), and a batch of more than 1 MiB from us, whose frame uses 4 MB blocks (block size byte 7).

const r = await rig()
const run = promisify(execFile)
registerCodecs()

const lines = (bytes: number, per: number): Buffer[] => telemetry(bytes).toString().split('\n').reduce<string[][]>((acc, line, i) => {
  if (i % per === 0) acc.push([])
  acc[acc.length - 1]!.push(line)
  return acc
}, []).map((group) => Buffer.from(group.join('\n')))

t.test('LZ4 batches the broker writes itself (topic compression.type lz4) are read by our codec', async (t) => {
  const topic = uniqueTopic('lz4-java')
  const admin = new Kafka(kafkaConfig(r, 'plaintext', 'flowgate-lz4-admin')).admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'compression.type', value: 'lz4' }] }], waitForLeaders: true })
  } finally { await admin.disconnect() }
  const values = lines(300_000, 40) // several 64 KB blocks in Java's frames
  const producer = new Kafka(kafkaConfig(r, 'plaintext', 'flowgate-lz4-plain')).producer()
  await producer.connect()
  try {
    await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) })
  } finally { await producer.disconnect() }
  t.same([...new Set((await storedBatches(r, topic)).map((b) => b.codec))], ['lz4'], 'the broker stored lz4')
  const read = await readRecords(topic, values.length)
  t.same(read.map((x) => x.value?.toString()), values.map((v) => v.toString()), 'kafkajs with our codec decodes the broker\'s frames')
})

t.test('LZ4 batches librdkafka writes (kcat -z lz4) are read by our codec', async (t) => {
  const topic = uniqueTopic('lz4-kcat')
  await createTopic(topic, 1)
  const values = lines(200_000, 25).map((v) => v.toString().replaceAll('\n', ' '))
  await new Promise<void>((resolve, reject) => {
    const child = execFile('kcat', [...kcatArgs(r, 'plaintext'), '-P', '-t', topic, '-z', 'lz4', '-X', 'linger.ms=50'], { timeout: 30_000 }, (err) => err ? reject(err) : resolve())
    child.stdin!.end(values.join('\n') + '\n')
  })
  t.same([...new Set((await storedBatches(r, topic)).map((b) => b.codec))], ['lz4'], 'stored as lz4')
  const read = await readRecords(topic, values.length)
  t.same(read.map((x) => x.value?.toString()), values, 'kafkajs with our codec decodes librdkafka\'s frames')
})

t.test('an LZ4 batch of more than 1 MiB (4 MB blocks) is accepted by the broker and read by kcat and kafkajs', async (t) => {
  const topic = uniqueTopic('lz4-big')
  await createTopic(topic, 1)
  const values = lines(1_500_000, 60)
  const e = listenerEndpoint(r, 'plaintext', { compression: 'Lz4', batching: { mode: 'Enabled', latencyMs: 200, maxMessages: 100_000, maxBytes: 4_000_000 } })
  const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
  try {
    await Promise.all(values.map((value) => producer.send({ topic, key: null, value, headers: [] })))
  } finally {
    await producer.close()
  }
  const batches = await storedBatches(r, topic)
  t.same([...new Set(batches.map((b) => b.codec))], ['lz4'], 'stored as lz4')
  const biggest = Math.max(...batches.map((b) => values.slice(b.baseOffset, b.baseOffset + b.count).reduce((n, v) => n + v.length, 0)))
  t.ok(biggest > 1 << 20, `one batch carried ${biggest} bytes of values (${batches.length} batches)`)
  const viaKcat = await kcatConsume(r, 'plaintext', topic, values.length)
  t.same(viaKcat.map((x) => x.payload), values.map((v) => v.toString()), 'kcat (librdkafka) decodes every record')
  const viaKafkajs = await readRecords(topic, values.length)
  t.same(viaKafkajs.map((x) => x.value?.toString()), values.map((v) => v.toString()), 'kafkajs decodes every record')
})
