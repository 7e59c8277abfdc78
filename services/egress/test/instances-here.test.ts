import t from 'tap'
import fc from 'fast-check'
import { instancesHere } from '../src/kafka-source-factory.js'

t.test('one process runs every instance of a Kafka-source dataflow (instanceCount, at least 1)', async (t) => {
  t.equal(instancesHere(3), 3)
  t.equal(instancesHere(0), 1, 'a profile without instances still runs one')
  t.equal(instancesHere(2, { index: 0, of: 1 }), 2, 'one worker is the whole gateway')
})

t.test('--workers N: the workers\' shares add up to instanceCount, and differ by at most one', async (t) => {
  t.same([0, 1].map((index) => instancesHere(1, { index, of: 2 })), [1, 0], 'instanceCount 1 on two workers: the first runs it')
  t.same([0, 1].map((index) => instancesHere(2, { index, of: 2 })), [1, 1])
  fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 64 }), (count, of) => {
    const shares = Array.from({ length: of }, (_, index) => instancesHere(count, { index, of }))
    return shares.reduce((a, b) => a + b, 0) === count && Math.max(...shares) - Math.min(...shares) <= 1
  }))
  t.pass('property held for instanceCount 1–200 over 1–64 workers')
})
