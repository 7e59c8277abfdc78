// The murmur2 port against Kafka's own Java client (vectors from test/fixtures/Murmur2Vectors.java) and kafkajs.
import t from 'tap'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { base64Decode } from '../src/base64.js'
import { javaCompatiblePartition, murmur2 } from '../src/murmur2.js'

interface Vectors { kafkaVersion: string, vectors: Array<{ key: string, murmur2: number, partitions: Record<string, number> }> }
const fixture = JSON.parse(readFileSync(new URL('./fixtures/murmur2-vectors.json', import.meta.url), 'utf8')) as Vectors

t.test(`murmur2 equals Kafka ${fixture.kafkaVersion}'s Utils.murmur2 on every vector`, async (t) => {
  t.ok(fixture.vectors.length >= 50)
  for (const v of fixture.vectors) t.equal(murmur2(base64Decode(v.key)!), v.murmur2, `key ${v.key}`)
})

t.test(`javaCompatiblePartition equals the Java producer's partitionForKey for every vector and partition count`, async (t) => {
  for (const v of fixture.vectors) {
    for (const [n, p] of Object.entries(v.partitions)) t.equal(javaCompatiblePartition(base64Decode(v.key)!, Number(n)), p, `key ${v.key} / ${n}`)
  }
})

t.test("javaCompatiblePartition agrees with kafkajs' DefaultPartitioner on random keys", async (t) => {
  const require = createRequire(import.meta.url)
  const { Partitioners } = require('kafkajs') as typeof import('kafkajs')
  const partitioner = Partitioners.DefaultPartitioner()
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 500 }), (key, n) => {
    const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }))
    const theirs = partitioner({ topic: 't', partitionMetadata, message: { key: Buffer.from(key), value: null } })
    return theirs === javaCompatiblePartition(key, n)
  }), { numRuns: 2000 })
  t.pass()
})

t.test('a partition count below 1 is refused', async (t) => {
  t.throws(() => javaCompatiblePartition(new Uint8Array(1), 0), RangeError)
})
