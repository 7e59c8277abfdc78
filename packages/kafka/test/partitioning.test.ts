import t from 'tap'
import { rig, createTopic, uniqueTopic, readRecords } from '@flowgate/testkit'
import { createBatchingProducer } from '../src/batching-producer.js'
import type { PartitionStrategy } from '../src/types.js'
import { silent } from './helpers.js'
import { listenerEndpoint, kafkaFor, javaPartitions } from './rig-helpers.js'

const r = await rig()
const PARTITIONS = 6

async function sendAll (strategy: PartitionStrategy, records: Array<{ key: string | null, staticPartition?: boolean }>, instanceId = 0): Promise<{ topic: string, partitions: number[] }> {
  const topic = uniqueTopic(`part-${strategy.toLowerCase()}`)
  await createTopic(topic, PARTITIONS)
  const e = listenerEndpoint(r, 'plaintext', { partitionStrategy: strategy, ...(strategy === 'Property' ? { partitionKeyProperty: 'device-id' } : {}) })
  const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId })
  try {
    const results = await Promise.all(records.map((x) => producer.send({ topic, key: x.key == null ? null : Buffer.from(x.key), value: Buffer.from('v'), headers: [], ...(x.staticPartition != null ? { staticPartition: x.staticPartition } : {}) })))
    return { topic, partitions: results.map((x) => x.partition) }
  } finally {
    await producer.close()
  }
}

const keys = ['factory/line1/oven', 'factory/line2/press', 'device-42', 'sensor-α', 'a', '', 'thermostat/7/temperature', 'x'.repeat(100)]

for (const strategy of ['Topic', 'Property'] as const) {
  t.test(`${strategy}: a key lands on the partition Java's murmur2 partitioner picks`, async (t) => {
    const expected = await javaPartitions(r, keys, PARTITIONS)
    const { topic, partitions } = await sendAll(strategy, keys.map((key) => ({ key })))
    t.same(partitions, expected, 'reported partitions match Java\'s Utils.murmur2')
    const stored = await readRecords(topic, keys.length)
    for (const rec of stored) t.equal(rec.partition, expected[keys.indexOf(rec.key!.toString())], `stored ${rec.key} on ${rec.partition}`)
  })
}

t.test('Static: every record of an instance goes to instanceId mod partitions', async (t) => {
  for (const instanceId of [0, 4, 9]) {
    const { partitions } = await sendAll('Static', Array.from({ length: 10 }, (_, i) => ({ key: `k${i}` })), instanceId)
    t.same([...new Set(partitions)], [instanceId % PARTITIONS], `instance ${instanceId}`)
  }
})

t.test('a record may ask for the static partition whatever the strategy', async (t) => {
  const { partitions } = await sendAll('Default', [{ key: null, staticPartition: true }, { key: null, staticPartition: true }], 3)
  t.same(partitions, [3, 3])
})

t.test('Default: keyless records spread round-robin over the partitions', async (t) => {
  const { topic, partitions } = await sendAll('Default', Array.from({ length: 24 }, () => ({ key: null })))
  const counts = Array.from({ length: PARTITIONS }, (_, p) => partitions.filter((x) => x === p).length)
  t.same(counts, Array(PARTITIONS).fill(24 / PARTITIONS), 'evenly spread')
  t.equal((await readRecords(topic, 24)).length, 24)
})
