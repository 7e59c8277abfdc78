import t from 'tap'
import fc from 'fast-check'
import { mergeStatusParts, STATUS_PART_REFRESH_MS, type Condition, type LedgerCounters, type ResourceStatus } from '../src/status.js'

const at = (iso: string): string => new Date(iso).toISOString()
const ready = (status: Condition['status'], reason: string, when = '2026-12-05T10:00:00Z'): Condition =>
  ({ type: 'Ready', status, reason, lastTransitionTime: at(when) })
const now = Date.parse('2026-12-05T12:00:00Z')
const fresh = new Date(now - 1000).toISOString()

t.test('two workers\' ledgers add up to the dataflow\'s, drops per reason', async (t) => {
  const merged = mergeStatusParts({
    'worker-0': { conditions: [ready('True', 'Running')], counters: { received: 10, sent: 8, dropped: { 'too-large': 1 }, buffered: 1 }, writtenAt: fresh },
    'worker-1': { conditions: [ready('True', 'Running')], counters: { received: 5, sent: 3, dropped: { 'too-large': 1, expired: 1 }, buffered: 0 }, writtenAt: fresh }
  }, now)
  t.same(merged.counters, { received: 15, sent: 11, dropped: { 'too-large': 2, expired: 1 }, buffered: 1 })
  t.notOk('writtenAt' in merged, 'the merged status carries no writer\'s time')
})

t.test('a condition is the worst any worker reports, the latest transition among equals', async (t) => {
  const parts = {
    'worker-0': { conditions: [ready('True', 'Running', '2026-12-05T11:00:00Z')], writtenAt: fresh },
    'worker-1': { conditions: [ready('False', 'BrokerUnreachable')], writtenAt: fresh },
    'worker-2': { conditions: [ready('Unknown', 'Starting')], writtenAt: fresh }
  }
  t.same(mergeStatusParts(parts, now).conditions, [ready('False', 'BrokerUnreachable')], 'False over Unknown over True')
  const allTrue = mergeStatusParts({ a: { conditions: [ready('True', 'Running', '2026-12-05T09:00:00Z')] }, b: { conditions: [ready('True', 'Running', '2026-12-05T11:00:00Z')] } }, now)
  t.equal(allTrue.conditions[0]!.lastTransitionTime, at('2026-12-05T11:00:00Z'))
  const degraded = mergeStatusParts({ a: { conditions: [{ type: 'Degraded', status: 'False', reason: 'Running', lastTransitionTime: fresh }] }, b: { conditions: [{ type: 'Degraded', status: 'True', reason: 'TopicMissing', lastTransitionTime: fresh }] } }, now)
  t.equal(degraded.conditions[0]!.status, 'True', 'Degraded: True is the bad value')
})

t.test('an endpoint\'s users are the union of every worker\'s', async (t) => {
  const merged = mergeStatusParts({ a: { conditions: [], dataflows: ['b', 'a'] }, b: { conditions: [], dataflows: ['c', 'a'] } }, now)
  t.same(merged.dataflows, ['a', 'b', 'c'])
  t.notOk('counters' in merged, 'no ledger where no worker wrote one')
})

t.test('a part not rewritten for three refresh periods is a worker gone, unless every part is', async (t) => {
  const old = new Date(now - 3 * STATUS_PART_REFRESH_MS - 1).toISOString()
  const parts = {
    'worker-0': { conditions: [ready('True', 'Running')], counters: { received: 4, sent: 4, dropped: {}, buffered: 0 }, writtenAt: fresh },
    'worker-1': { conditions: [ready('False', 'BrokerUnreachable')], counters: { received: 9, sent: 0, dropped: {}, buffered: 9 }, writtenAt: old }
  }
  const merged = mergeStatusParts(parts, now)
  t.same(merged.counters, { received: 4, sent: 4, dropped: {}, buffered: 0 }, 'the gone worker\'s counts left out')
  t.equal(merged.conditions[0]!.status, 'True', 'and its condition')
  t.same(mergeStatusParts({ 'worker-1': parts['worker-1'] }, now).counters?.received, 9, 'all stale: the last status written is shown')
  t.same(mergeStatusParts({ junk: 'x', also: null }, now), { conditions: [] }, 'parts that are not statuses are ignored')
})

const ledger = fc.record({ sent: fc.nat(1e6), buffered: fc.nat(1e4), dropped: fc.dictionary(fc.constantFrom('too-large', 'expired', 'no-topic'), fc.nat(1e4)) })
  .map((l): LedgerCounters => ({ ...l, received: l.sent + l.buffered + Object.values(l.dropped).reduce((a, b) => a + b, 0) }))

t.test('property: balanced ledgers merge into a balanced ledger whose received is the sum', async () => {
  fc.assert(fc.property(fc.array(ledger, { minLength: 1, maxLength: 16 }), (ledgers) => {
    const parts: Record<string, ResourceStatus> = Object.fromEntries(ledgers.map((counters, i) => [`worker-${i}`, { conditions: [], counters, writtenAt: fresh }]))
    const m = mergeStatusParts(parts, now).counters!
    const dropped = Object.values(m.dropped).reduce((a, b) => a + b, 0)
    return m.received === m.sent + dropped + m.buffered && m.received === ledgers.reduce((a, l) => a + l.received, 0)
  }))
})
