import t from 'tap'
import fc from 'fast-check'
import { Fifo } from '../src/fifo.js'

t.test('behaves as an array used with push, shift and splice(0), whatever the order of operations', async (t) => {
  const op = fc.oneof(
    fc.record({ push: fc.integer({ min: 1, max: 3000 }) }),
    fc.record({ shift: fc.integer({ min: 1, max: 3000 }) }),
    fc.constant({ takeAll: true })
  )
  fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
    const fifo = new Fifo<number>()
    const model: number[] = []
    let next = 0
    for (const o of ops) {
      if ('push' in o) for (let i = 0; i < o.push; i++) { fifo.push(next); model.push(next++) }
      else if ('shift' in o) { for (let i = 0; i < o.shift; i++) if (fifo.shift() !== model.shift()) return false }
      else if (JSON.stringify(fifo.takeAll()) !== JSON.stringify(model.splice(0))) return false
      if (fifo.length !== model.length) return false
    }
    return true
  }), { numRuns: 50 })
  t.pass('same items, same order, same length as the array')
})

t.test('a long queue drained one at a time keeps its order and ends empty', async (t) => {
  const fifo = new Fifo<{ n: number }>()
  for (let n = 0; n < 100_000; n++) fifo.push({ n })
  let expected = 0
  let ordered = true
  for (let item = fifo.shift(); item !== undefined; item = fifo.shift()) if (item.n !== expected++) ordered = false
  t.ok(ordered)
  t.equal(expected, 100_000)
  t.equal(fifo.length, 0)
  t.equal(fifo.shift(), undefined)
})
