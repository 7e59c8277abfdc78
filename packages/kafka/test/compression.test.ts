import t from 'tap'
import { rig, createTopic, readRecords, uniqueTopic, kcatConsume } from '@flowgate/testkit'
import { createBatchingProducer } from '../src/batching-producer.js'
import { silent } from './helpers.js'
import { listenerEndpoint, kafkaFor, storedBatches } from './rig-helpers.js'

// Each codec: the real broker accepts our batches (it decompresses them to validate), stores them with that codec
// (Kafka's DumpLogSegments says so), and both librdkafka (kcat) and kafkajs read the records back.

const r = await rig()

for (const [compression, codec] of [['Gzip', 'gzip'], ['Snappy', 'snappy'], ['Lz4', 'lz4'], ['None', 'none']] as const) {
  t.test(`compression ${compression}: stored as ${codec}, read back by kcat and kafkajs`, async (t) => {
    const topic = uniqueTopic(`codec-${codec}`)
    await createTopic(topic, 1)
    const e = listenerEndpoint(r, 'plaintext', { compression, batching: { mode: 'Enabled', latencyMs: 20, maxMessages: 50, maxBytes: 1_000_000 } })
    const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
    // Compressible JSON plus one 200 KB record that spans several LZ4 blocks / Snappy chunks.
    const values = Array.from({ length: 49 }, (_, i) => Buffer.from(JSON.stringify({ i, sensor: 'temperature', value: 20 + i / 10, unit: 'C' })))
    values.push(Buffer.from('0123456789abcdef'.repeat(12_800)))
    try {
      await Promise.all(values.map((value, i) => producer.send({ topic, key: Buffer.from(`k${i}`), value, headers: [['n', Buffer.from(String(i))]] })))
    } finally {
      await producer.close()
    }
    const batches = await storedBatches(r, topic)
    t.ok(batches.length >= 1, 'stored')
    t.same([...new Set(batches.map((b) => b.codec))], [codec], `every batch stored with ${codec}`)

    const viaKcat = await kcatConsume(r, 'plaintext', topic, values.length)
    t.same(viaKcat.map((x) => x.payload), values.map((v) => v.toString()), 'kcat (librdkafka) decodes every record')
    t.same(viaKcat[3]?.headers, ['n', '3'])
    const viaKafkajs = await readRecords(topic, values.length)
    t.same(viaKafkajs.map((x) => x.value?.toString()), values.map((v) => v.toString()), 'kafkajs decodes every record')
  })
}
