import t from 'tap'
import { assignBySubscription } from '../src/subscription-assigner.js'

const partitions = (n: number) => () => Array.from({ length: n }, (_, i) => i)

t.test('each topic goes only to the members that subscribed to it, evenly', async (t) => {
  const out = assignBySubscription([
    { memberId: 'b-1', topics: ['b', 'both'] },
    { memberId: 'a-1', topics: ['a', 'both'] },
    { memberId: 'a-2', topics: ['a', 'both'] }
  ], partitions(3))
  t.same(out.get('a-1'), { a: [0, 2], both: [1] })
  t.same(out.get('a-2'), { a: [1], both: [0, 2] })
  t.same(out.get('b-1'), { b: [0, 1, 2] }, 'three partitions each')
  // Every partition of every topic exactly once.
  for (const topic of ['a', 'b', 'both']) {
    const all = [...out.values()].flatMap((m) => m[topic] ?? []).sort()
    t.same(all, [0, 1, 2], topic)
  }
})

t.test('kafkajs\' round-robin would deal a member topics it never fetches; here a lone subscriber gets its whole topic', async (t) => {
  const out = assignBySubscription([{ memberId: 'x', topics: ['t1'] }, { memberId: 'y', topics: ['t2'] }], partitions(4))
  t.same(out.get('x'), { t1: [0, 1, 2, 3] })
  t.same(out.get('y'), { t2: [0, 1, 2, 3] })
})

t.test('an unknown topic assigns nothing; a member without partitions still gets an (empty) assignment', async (t) => {
  const out = assignBySubscription([{ memberId: 'x', topics: ['gone'] }], () => [])
  t.same([...out], [['x', {}]])
})
