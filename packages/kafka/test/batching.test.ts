import t, { type Test } from 'tap'
import { rig, createTopic, uniqueTopic, readRecords } from '@flowgate/testkit'
import { createBatchingProducer, type BatchingProducer } from '../src/batching-producer.js'
import type { KafkaBatching, KafkaAcks } from '../src/types.js'
import { silent } from './helpers.js'
import { listenerEndpoint, kafkaFor, storedBatches } from './rig-helpers.js'

const r = await rig()

async function produce (batching: KafkaBatching, count: number, { acks = 'All' as KafkaAcks, size = 100 } = {}): Promise<{ topic: string, results: Array<{ partition: number, offset: string | null }>, elapsed: number, batches: number }> {
  const topic = uniqueTopic('batching')
  await createTopic(topic, 1)
  const e = listenerEndpoint(r, 'plaintext', { batching, kafkaAcks: acks })
  const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
  await producer.connect()
  const started = Date.now()
  try {
    const results = await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ topic, key: null, value: Buffer.alloc(size, 97 + (i % 26)), headers: [] })))
    return { topic, results, elapsed: Date.now() - started, batches: producer.counters.batches }
  } finally {
    await producer.close()
  }
}

/** A connected producer with these batching settings and a fresh one-partition topic; closed when the test ends. */
async function openProducer (t: Test, prefix: string, batching: KafkaBatching): Promise<{ topic: string, producer: BatchingProducer }> {
  const topic = uniqueTopic(prefix)
  await createTopic(topic, 1)
  const e = listenerEndpoint(r, 'plaintext', { batching })
  const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
  t.teardown(() => producer.close())
  await producer.connect()
  return { topic, producer }
}

t.test('maxMessages 10 with 25 records gives batches of 10, 10 and 5', async (t) => {
  const { topic, results } = await produce({ mode: 'Enabled', latencyMs: 1000, maxMessages: 10, maxBytes: 1_000_000 }, 25)
  t.same(results.map((x) => x.offset), Array.from({ length: 25 }, (_, i) => String(i)), 'every record acknowledged with its offset')
  t.same((await storedBatches(r, topic)).map((b) => b.count), [10, 10, 5])
})

t.test('batches that queue behind a request in flight leave in one request, within maxMessages', async (t) => {
  const { topic, producer } = await openProducer(t, 'merge', { mode: 'Enabled', latencyMs: 60_000, maxMessages: 10, maxBytes: 1_000_000 })
  const send = (n: number, from: number): Array<Promise<unknown>> => Array.from({ length: n }, (_, i) => producer.send({ topic, key: null, value: Buffer.from(String(from + i)), headers: [] }))
  // A full batch of 10 goes at once; batches of 3, 4 and 5 are flushed while it is in flight.
  const sent = [...send(10, 0), ...send(3, 10)]
  void producer.flush()
  sent.push(...send(4, 13))
  void producer.flush()
  sent.push(...send(5, 17))
  await producer.flush()
  await Promise.all(sent)
  t.same((await storedBatches(r, topic)).map((b) => b.count), [10, 7, 5], '3 + 4 merged; adding 5 would pass maxMessages')
  t.same((await readRecords(topic, 22)).map((m) => m.value?.toString()), Array.from({ length: 22 }, (_, i) => String(i)), 'in order')
})

t.test('maxBytes closes a batch before it would grow past the limit', async (t) => {
  // ~1,126 bytes per record as we estimate it: 3 fit under 4,000 bytes.
  const { topic } = await produce({ mode: 'Enabled', latencyMs: 1000, maxMessages: 1000, maxBytes: 4000 }, 10, { size: 1100 })
  t.same((await storedBatches(r, topic)).map((b) => b.count), [3, 3, 3, 1])
})

t.test('batching Disabled sends every record in a batch of its own', async (t) => {
  const { topic } = await produce({ mode: 'Disabled', latencyMs: 1000, maxMessages: 100, maxBytes: 1_000_000 }, 7)
  t.same((await storedBatches(r, topic)).map((b) => b.count), [1, 1, 1, 1, 1, 1, 1])
})

t.test('latencyMs: a batch that never fills leaves when the latency elapsed since its first record', async (t) => {
  const { topic, producer } = await openProducer(t, 'latency', { mode: 'Enabled', latencyMs: 400, maxMessages: 1000, maxBytes: 1_000_000 })
  const first = producer.send({ topic, key: null, value: Buffer.from('a'), headers: [] })
  await new Promise((resolve) => setTimeout(resolve, 150))
  const second = producer.send({ topic, key: null, value: Buffer.from('b'), headers: [] })
  let settled = false
  void first.then(() => { settled = true })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.notOk(settled, 'still buffered before latencyMs')
  await Promise.all([first, second])
  t.same((await storedBatches(r, topic)).map((b) => b.count), [2], 'both records in one batch, sent by the timer')
})

for (const acks of ['Zero', 'None', 'One', 'All'] as const) {
  t.test(`kafkaAcks ${acks}: records are sent and stored`, async (t) => {
    const { topic, results } = await produce({ mode: 'Enabled', latencyMs: 5, maxMessages: 100, maxBytes: 1_000_000 }, 20, { acks })
    if (acks === 'Zero' || acks === 'None') t.ok(results.every((x) => x.offset === null), 'no offsets without broker acks')
    else t.same(results.map((x) => x.offset), Array.from({ length: 20 }, (_, i) => String(i)))
    t.equal((await readRecords(topic, 20)).length, 20)
  })
}

t.test('acks All uses an idempotent producer; Zero (and its alias None) and One a plain one', async (t) => {
  const topic = uniqueTopic('idem')
  await createTopic(topic, 1)
  for (const [acks, idempotent, value] of [['All', true, -1], ['One', false, 1], ['Zero', false, 0], ['None', false, 0]] as const) {
    const e = listenerEndpoint(r, 'plaintext', { kafkaAcks: acks })
    const producer = createBatchingProducer(kafkaFor(e), e.endpoint, { logger: silent, instanceId: 0 })
    t.equal(producer.idempotent, idempotent, `${acks}: idempotent ${idempotent}`)
    t.equal(producer.acks, value)
    await producer.send({ topic, key: null, value: Buffer.from(acks), headers: [] })
    await producer.close()
  }
  // Broker side: the idempotent batch carries a producer id (DumpLogSegments' producerId ≥ 0), the others -1.
  const { execFile } = await import('node:child_process')
  const { promisify } = await import('node:util')
  const { readdirSync } = await import('node:fs')
  const { join } = await import('node:path')
  const find = (dir: string): string | undefined => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (!d.isDirectory()) continue
      if (d.name === `${topic}-0`) return join(dir, d.name)
      const f = d.name.startsWith('__') || /-\d+$/.test(d.name) ? undefined : find(join(dir, d.name))
      if (f) return f
    }
  }
  const dir = find(r.dir)!
  const log = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => join(dir, f)).join(',')
  const { stdout } = await promisify(execFile)('java', ['-cp', `${r.classpath}/*`, 'org.apache.kafka.tools.DumpLogSegments', '--files', log])
  const ids = [...stdout.matchAll(/producerId: (-?\d+)/g)].map((m) => Number(m[1]))
  t.equal(ids.length, 4)
  t.ok(ids[0]! >= 0, 'acks All: batch written by an idempotent producer id')
  t.same(ids.slice(1), [-1, -1, -1], 'acks One / Zero / None: no producer id')
})
