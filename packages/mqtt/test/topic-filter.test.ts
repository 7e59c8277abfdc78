import t from 'tap'
import fc from 'fast-check'
import { topicMatches, topicFilterProblem } from '../src/index.js'

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
