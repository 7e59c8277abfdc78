import t from 'tap'
import fc from 'fast-check'
import { createOffsetCommitter, type CommitOffsets } from '../src/offset-committer.js'

type Offsets = Parameters<CommitOffsets>[0]

/** A coordinator that answers when told: the requests it got, and how many were in flight at once. */
function fakeCoordinator () {
  const requests: Offsets[] = []
  const answers: Array<(err?: Error) => void> = []
  let inFlight = 0
  let maxInFlight = 0
  const commit: CommitOffsets = async (offsets) => {
    requests.push(offsets)
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    await new Promise<void>((resolve, reject) => answers.push((err) => { inFlight--; if (err) reject(err); else resolve() }))
  }
  const answer = async (err?: Error): Promise<void> => { answers.shift()!(err); await new Promise((resolve) => setImmediate(resolve)) }
  return { commit, requests, answer, get maxInFlight () { return maxInFlight } }
}

const quiet = { refused: (err: unknown) => (err as { type?: string }).type === 'ILLEGAL_GENERATION', onRefused: () => {}, onError: () => {} }

t.test('marks made while a commit is in flight go together in the next one, the latest per partition', async (t) => {
  const k = fakeCoordinator()
  const c = createOffsetCommitter({ commit: k.commit, ...quiet })
  c.mark('a', 0, '5')
  c.mark('a', 0, '9')
  c.mark('a', 1, '3')
  c.mark('b', 0, '7')
  t.same(k.requests, [[{ topic: 'a', partition: 0, offset: '5' }]], 'the first mark leaves at once')
  await k.answer()
  t.same(k.requests[1], [{ topic: 'a', partition: 0, offset: '9' }, { topic: 'a', partition: 1, offset: '3' }, { topic: 'b', partition: 0, offset: '7' }])
  await k.answer()
  t.equal(k.requests.length, 2, 'nothing more to send')
  t.equal(k.maxInFlight, 1)
})

t.test('flush resolves once every earlier mark is answered', async (t) => {
  const k = fakeCoordinator()
  const c = createOffsetCommitter({ commit: k.commit, ...quiet })
  c.mark('a', 0, '1')
  c.mark('a', 0, '2')
  let flushed = false
  const f = c.flush().then(() => { flushed = true })
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(flushed, 'the first request is still in flight')
  await k.answer()
  t.notOk(flushed, 'offset 2 is in the second request, still in flight')
  t.same(k.requests[1], [{ topic: 'a', partition: 0, offset: '2' }])
  await k.answer()
  await f
  t.ok(flushed)
  await c.flush() // nothing marked: at once
})

t.test('a refusal drops the marks; another failure keeps them for a retry unless a later mark supersedes them', async (t) => {
  const k = fakeCoordinator()
  const refused: Error[] = []
  const errors: Error[] = []
  const c = createOffsetCommitter({ commit: k.commit, refused: quiet.refused, onRefused: (e) => refused.push(e), onError: (e) => errors.push(e), retryMs: 20 })
  c.mark('a', 0, '1')
  await k.answer(Object.assign(new Error('generation over'), { type: 'ILLEGAL_GENERATION' }))
  t.equal(refused.length, 1)
  t.equal(k.requests.length, 1, 'not sent again')

  c.mark('a', 0, '2')
  c.mark('a', 1, '4')
  await k.answer() // a/0 → 2 went alone; a/1 → 4, marked while it was in flight, follows
  t.same(k.requests.slice(1), [[{ topic: 'a', partition: 0, offset: '2' }], [{ topic: 'a', partition: 1, offset: '4' }]])
  await k.answer(new Error('connection closed'))
  t.equal(errors.length, 1)
  c.mark('a', 2, '8')
  t.equal(k.requests.length, 3, 'waits out the backoff')
  await new Promise((resolve) => setTimeout(resolve, 40))
  t.same([...k.requests[3]!].sort((x, y) => x.partition - y.partition), [{ topic: 'a', partition: 1, offset: '4' }, { topic: 'a', partition: 2, offset: '8' }], 'the failed mark went again, with the new one')
  await k.answer()
})

t.test('property: what is committed last per partition is the last mark, and commits never go backwards', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ partition: fc.integer({ min: 0, max: 3 }), answerFirst: fc.boolean() }), { minLength: 1, maxLength: 60 }),
    async (steps) => {
      const k = fakeCoordinator()
      const c = createOffsetCommitter({ commit: k.commit, ...quiet })
      const next = new Map<number, number>()
      let pending = 0
      for (const step of steps) {
        if (step.answerFirst && k.requests.length > pending) { pending++; await k.answer() }
        const offset = (next.get(step.partition) ?? 0) + 1
        next.set(step.partition, offset)
        c.mark('t', step.partition, String(offset))
      }
      const flushed = c.flush()
      while (k.requests.length > pending) { pending++; await k.answer() }
      await flushed
      const committed = new Map<number, number>()
      for (const request of k.requests) {
        for (const o of request) {
          t.ok(Number(o.offset) > (committed.get(o.partition) ?? 0), 'forward only')
          committed.set(o.partition, Number(o.offset))
        }
      }
      t.same(committed, next)
      t.equal(k.maxInFlight, 1)
    }
  ), { numRuns: 200 })
})
