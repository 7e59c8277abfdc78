import t from 'tap'
import fc from 'fast-check'
import { topicMatches, compileTopicFilter, topicFilterProblem } from '../src/topic-filter.js'

t.test('wildcards match as MQTT 5 §4.7 says', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/#', 'sport', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/broker', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/broker', true],
    ['$share/group/factory/+', 'factory/oven', true]
  ]
  for (const [filter, topic, expected] of cases) t.equal(topicMatches(filter, topic), expected, `${filter} ~ ${topic}`)
})

t.test('a filter equal to a wildcard-free topic matches exactly that topic', async (t) => {
  const level = fc.stringMatching(/^[a-z0-9]{0,4}$/)
  fc.assert(fc.property(fc.array(level, { minLength: 1, maxLength: 5 }), fc.array(level, { minLength: 1, maxLength: 5 }), (a, b) => {
    const ta = a.join('/'); const tb = b.join('/')
    return topicMatches(ta, tb) === (ta === tb) && topicMatches('#', ta)
  }))
})

t.test('malformed filters are named', async (t) => {
  t.equal(topicFilterProblem('a/#/b'), '`#` must be a whole level and the last one')
  t.equal(topicFilterProblem('a/b+'), '`+` must be a whole level')
  t.equal(topicFilterProblem(''), 'a topic filter must not be empty')
  t.equal(topicFilterProblem('a/+/#'), undefined)
})

/** The MQTT 5 §4.7 rules level by level, the way the spec states them: the reference the compiled matcher must equal. */
function referenceMatch (filter: string, topic: string): boolean {
  const share = /^\$share\/[^/]+\/(.*)$/.exec(filter)
  const f = (share ? share[1] ?? '' : filter).split('/')
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false
  }
  return f.length === t.length
}

t.test('the compiled matcher agrees with the level-by-level rules on random filters and topics', async (t) => {
  const level = fc.constantFrom('a', 'b', '', '$x', 'ab')
  const filterLevel = fc.constantFrom('a', 'b', '', '+', '$x')
  const filter = fc.tuple(fc.array(filterLevel, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.boolean())
    .map(([ls, hash, shared]) => (shared ? '$share/g/' : '') + [...ls, ...(hash ? ['#'] : [])].join('/'))
  const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('/'))
  fc.assert(fc.property(fc.oneof(filter, fc.constant('#'), fc.constant('+')), topic, (f, tp) => compileTopicFilter(f)(tp) === referenceMatch(f, tp)), { numRuns: 5000 })
  t.pass('5000 random filter/topic pairs agree')
})
