import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Partitioners, type PartitionMetadata } from 'kafkajs'
import { createPartitioner } from '../src/partitioner.js'

// The producer's one partitioner (seed "partition handling strategy"; DESIGN §6). Keys: Kafka's own vectors (made by
// its jars, kept in @flowgate/translate) and random keys against kafkajs' DefaultPartitioner, the Java-compatible one.

const partitions = (n: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: leaderless.includes(i) ? -1 : 0, replicas: [0], isr: [0], offlineReplicas: [], partitionErrorCode: 0 }))
const record = (key: Uint8Array | null, extra: { partition?: number, staticPartition?: boolean } = {}): { topic: string, key: Uint8Array | null, partition?: number, staticPartition?: boolean } => ({ topic: 't', key, ...extra })

t.test('a keyed record lands where the Java producer puts it: Kafka\'s vectors, and kafkajs on random keys', async (t) => {
  const fixture = JSON.parse(readFileSync(new URL('../../translate/test/fixtures/murmur2-vectors.json', import.meta.url), 'utf8')) as { vectors: Array<{ key: string, partitions: Record<string, number> }> }
  const p = createPartitioner({ strategy: 'Property', instanceId: 0 })
  for (const v of fixture.vectors) {
    for (const [count, expected] of Object.entries(v.partitions)) t.equal(p(partitions(Number(count)), record(Buffer.from(v.key, 'base64'))), expected, `key ${v.key}, ${count} partitions`)
  }
  const kafkajs = Partitioners.DefaultPartitioner()
  for (let i = 0; i < 2000; i++) {
    const key = randomBytes(i % 64)
    const count = 1 + (i % 17)
    const expected = kafkajs({ topic: 't', partitionMetadata: partitions(count), message: { key, value: null } })
    if (p(partitions(count), record(key)) !== expected) { t.fail(`key ${key.toString('hex')} with ${count} partitions: kafkajs says ${expected}`); return }
  }
  t.pass('2,000 random keys agree with kafkajs')
})

t.test('Static sends every record to instanceId mod partitions, keys or not; a translator\'s staticPartition too', async (t) => {
  const p = createPartitioner({ strategy: 'Static', instanceId: 7 })
  t.equal(p(partitions(3), record(null)), 1)
  t.equal(p(partitions(3), record(Buffer.from('any key'))), 1)
  t.equal(createPartitioner({ strategy: 'Default', instanceId: 5 })(partitions(4), record(null, { staticPartition: true })), 1)
  t.same([-1, -7, 0, 9].map((id) => createPartitioner({ strategy: 'Static', instanceId: id })(partitions(4), record(null))), [3, 1, 0, 1], 'never negative')
})

t.test('no key: round-robin over the partitions that have a leader', async (t) => {
  const p = createPartitioner({ strategy: 'Default', instanceId: 0 })
  const seen = Array.from({ length: 8 }, () => p(partitions(4), record(null)))
  t.same(new Set(seen).size, 4, 'all four partitions in turn')
  for (let i = 1; i < seen.length; i++) t.equal(seen[i], (seen[i - 1]! + 1) % 4)
  const led = Array.from({ length: 6 }, () => p(partitions(4, [1, 2]), record(null)))
  t.same(new Set(led), new Set([0, 3]), 'leaderless partitions skipped')
})

t.test('an explicit partition is kept, and refused for good when the topic has no such partition', async (t) => {
  const p = createPartitioner({ strategy: 'Static', instanceId: 1 })
  t.equal(p(partitions(3), record(null, { partition: 2 })), 2)
  t.throws(() => p(partitions(3), record(null, { partition: 3 })), { code: 'FG_ERR_KAFKA_REJECTED', permanent: true, message: /partition 3 is not in 0\.\.2 of t/ })
})
