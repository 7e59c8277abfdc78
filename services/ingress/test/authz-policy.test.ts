import t from 'tap'
import fc from 'fast-check'
import { compileTopicFilter, topicFilterProblem } from '@flowgate/mqtt'
import type { AuthorizationRule, BrokerAuthorization } from '@flowgate/resources'
import { compileAuthorization, type AuthorizationPolicy } from '../src/access/authz/policy.js'
import { filterContains } from '../src/access/authz/topics.js'
import type { Principal } from '../src/access/types.js'

type Spec = BrokerAuthorization['spec']

const policy = (rules: AuthorizationRule[], cache: 'Enabled' | 'Disabled' = 'Enabled'): AuthorizationPolicy =>
  compileAuthorization({ authorizationPolicies: { cache, rules } })

const principal = (clientId: string, username?: string, attributes: Record<string, string> = {}): Principal =>
  username === undefined ? { clientId, attributes } : { clientId, username, attributes }

// ---- AIO's documented examples ----

t.test('AIO example: usernames or attributes, topics scoped by {principal.username} and {principal.attributes.organization}', async (t) => {
  const spec: Spec = {
    authorizationPolicies: {
      cache: 'Enabled',
      rules: [{
        principals: { usernames: ['temperature-sensor', 'humidity-sensor'], attributes: [{ city: 'seattle', organization: 'contoso' }] },
        brokerResources: [
          { method: 'Connect' },
          { method: 'Publish', topics: ['/telemetry/{principal.username}', '/telemetry/{principal.attributes.organization}'] },
          { method: 'Subscribe', topics: ['/commands/{principal.attributes.organization}'] }
        ]
      }]
    }
  }
  const authz = compileAuthorization(spec)
  const temperature = principal('t-1', 'temperature-sensor', { organization: 'contoso' })
  const humidity = principal('h-1', 'humidity-sensor', { organization: 'contoso' })
  const other = principal('o-1', 'some-other-username', { city: 'seattle', organization: 'contoso' })

  for (const p of [temperature, humidity, other]) t.ok(authz.connect(p), `${p.username} connects`)
  t.ok(authz.publish(temperature, '/telemetry/temperature-sensor'))
  t.ok(authz.publish(temperature, '/telemetry/contoso'))
  t.notOk(authz.publish(temperature, '/telemetry/humidity-sensor'), 'not another user\'s topic')
  t.ok(authz.publish(humidity, '/telemetry/humidity-sensor'))
  t.ok(authz.publish(other, '/telemetry/contoso'), 'matched through its attributes')
  t.ok(authz.subscribe(temperature, '/commands/contoso'))
  t.ok(authz.subscribe(other, '/commands/contoso'))
  t.notOk(authz.subscribe(other, '/commands/+'), 'a wider filter than granted')
  t.notOk(authz.publish(other, '/commands/contoso'), 'Subscribe grants do not allow publishing')

  const onlyCity = principal('c-1', 'nobody', { city: 'seattle' })
  t.notOk(authz.connect(onlyCity), 'one attribute of the map is not enough: AND within a map')
  t.notOk(authz.publish(onlyCity, '/telemetry/nobody'))
  const noOrganization = principal('t-2', 'temperature-sensor')
  t.ok(authz.publish(noOrganization, '/telemetry/temperature-sensor'))
  t.notOk(authz.publish(noOrganization, '/telemetry/'), 'a missing attribute is never substituted as an empty level')
})

t.test('AIO example: building attributes with Connect clientIds `{principal.attributes.building}*`', async (t) => {
  const authz = policy([{
    principals: { attributes: [{ building: 'building22' }, { building: 'building23' }] },
    brokerResources: [
      { method: 'Connect', clientIds: ['{principal.attributes.building}*'] },
      { method: 'Publish', topics: ['sensors/{principal.attributes.building}/{principal.clientId}/telemetry'] }
    ]
  }])
  const in22 = principal('building22-sensor-7', undefined, { building: 'building22' })
  const in23 = principal('building23', undefined, { building: 'building23' })
  t.ok(authz.connect(in22), 'client id starts with its building')
  t.ok(authz.connect(in23), '`*` matches the empty run too')
  t.notOk(authz.connect(principal('building23-sensor-1', undefined, { building: 'building22' })), 'another building\'s prefix')
  t.notOk(authz.connect(principal('sensor-building22', undefined, { building: 'building22' })), 'the prefix is anchored')
  t.notOk(authz.connect(principal('building24-x', undefined, { building: 'building24' })), 'no principal entry matches')
  t.ok(authz.publish(in22, 'sensors/building22/building22-sensor-7/telemetry'))
  t.notOk(authz.publish(in22, 'sensors/building22/building22-sensor-8/telemetry'))
  t.notOk(authz.publish(in22, 'sensors/building23/building22-sensor-7/telemetry'))

  const withoutPattern = policy([{
    principals: { attributes: [{ building: 'building22' }] },
    brokerResources: [{ method: 'Connect' }]
  }])
  t.ok(withoutPattern.connect(principal('anything', undefined, { building: 'building22' })), 'without clientIds any client id connects')
})

t.test('AIO example: a SAT attribute-only rule (enableCache: false), and the portal\'s spelling with empty lists', async (t) => {
  const yaml = compileAuthorization({
    authorizationPolicies: {
      // The validated spec always carries `cache` (its default); the preview spelling overrides it.
      cache: 'Enabled',
      enableCache: false,
      rules: [{
        principals: { attributes: [{ group: 'authz-sat' }] },
        brokerResources: [{ method: 'Connect' }, { method: 'Publish', topics: ['odd-numbered-orders'] }, { method: 'Subscribe', topics: ['orders'] }]
      }]
    }
  })
  const portal = policy([{
    principals: { attributes: [{ group: 'authz-sat' }] },
    brokerResources: [
      { method: 'Connect', clientIds: [], topics: [] },
      { method: 'Publish', clientIds: [], topics: ['odd-numbered-orders'] },
      { method: 'Subscribe', clientIds: [], topics: ['orders'] }
    ]
  }])
  const app = principal('dapr-app-7f9c', undefined, { group: 'authz-sat' })
  const stranger = principal('dapr-app-7f9c', undefined, { group: 'other' })
  for (const [name, authz] of [['yaml', yaml], ['portal', portal]] as const) {
    t.ok(authz.connect(app), `${name}: connects with no client id or user name listed`)
    t.ok(authz.publish(app, 'odd-numbered-orders'), `${name}: publishes its topic`)
    t.ok(authz.subscribe(app, 'orders'), `${name}: subscribes to its topic`)
    t.notOk(authz.publish(app, 'orders'), `${name}: no publish where only subscribe was granted`)
    t.notOk(authz.subscribe(app, 'odd-numbered-orders'), `${name}: and the other way round`)
    t.notOk(authz.connect(stranger), `${name}: another group is refused`)
  }
})

// ---- substitution ----

t.test('{principal.clientId}: dev-1 may publish to factory/dev-1/temp, not to factory/dev-2/temp', async (t) => {
  const authz = policy([{
    principals: { clientIds: ['dev-1', 'dev-2'] },
    brokerResources: [{ method: 'Connect' }, { method: 'Publish', topics: ['factory/{principal.clientId}/temp'] }]
  }])
  const dev1 = principal('dev-1')
  t.ok(authz.publish(dev1, 'factory/dev-1/temp'))
  t.notOk(authz.publish(dev1, 'factory/dev-2/temp'))
  t.ok(authz.publish(principal('dev-2'), 'factory/dev-2/temp'))
  t.notOk(authz.publish(principal('dev-3'), 'factory/dev-3/temp'), 'dev-3 is no principal of the rule')
})

t.test('a substituted value is never a wildcard, a separator or a $ topic: such a device is granted nothing by that topic', async (t) => {
  const everyone = { clientIds: ['#', '+', 'a/b', '$SYS', 'dev-1'], usernames: ['#'], attributes: [{ role: 'device' }] }
  const authz = policy([{
    principals: everyone,
    brokerResources: [
      { method: 'Connect' },
      { method: 'Publish', topics: ['factory/{principal.clientId}', 'factory/{principal.clientId}/#', '{principal.clientId}/x', 'user/{principal.username}/#', 'site/{principal.attributes.site}/#'] },
      { method: 'Subscribe', topics: ['factory/{principal.clientId}', 'factory/{principal.clientId}/#'] }
    ]
  }])
  const hash = principal('#')
  t.notOk(authz.publish(hash, 'factory/dev-1'), 'client id # does not turn factory/{principal.clientId} into factory/#')
  t.notOk(authz.publish(hash, 'factory/dev-1/temp'))
  t.notOk(authz.subscribe(hash, 'factory/#'), 'nor subscribe to the whole factory')
  t.notOk(authz.subscribe(hash, 'factory/+'))
  t.notOk(authz.publish(hash, 'factory/#'), 'and a topic name holding # is never allowed')

  const plus = principal('+')
  t.notOk(authz.publish(plus, 'factory/dev-1'), 'client id + is no single-level wildcard')
  t.notOk(authz.subscribe(plus, 'factory/+'))
  t.notOk(authz.subscribe(plus, 'factory/+/#'))

  const slash = principal('a/b')
  t.notOk(authz.publish(slash, 'factory/a/b'), 'client id a/b does not reach a level deeper')
  t.notOk(authz.publish(slash, 'factory/a/b/c'))
  t.notOk(authz.publish(principal('$SYS'), '$SYS/x'), 'a client id starting with $ does not open a $ topic')

  t.notOk(authz.publish(principal('dev-1', '#'), 'user/anything/x'), 'the same for a user name')
  t.notOk(authz.publish(principal('d', undefined, { role: 'device', site: '+' }), 'site/s1/x'), 'and for an attribute')

  t.ok(authz.publish(principal('dev-1'), 'factory/dev-1/temp'), 'an ordinary client id still gets its topics')
  t.ok(authz.subscribe(principal('dev-1'), 'factory/dev-1/#'))
})

t.test('a `*` substituted into a Connect clientIds pattern matches a literal `*` only', async (t) => {
  const authz = policy([{
    principals: { attributes: [{ role: 'device' }] },
    brokerResources: [{ method: 'Connect', clientIds: ['{principal.attributes.building}*', 'fixed-{principal.username}'] }]
  }])
  t.notOk(authz.connect(principal('anything', undefined, { role: 'device', building: '*' })), 'attribute * does not make the pattern match everything')
  t.ok(authz.connect(principal('*-sensor', undefined, { role: 'device', building: '*' })), 'it is matched as a literal *')
  t.ok(authz.connect(principal('b.+(x)-1', undefined, { role: 'device', building: 'b.+(x)' })), 'regular-expression characters in a value are literal too')
  t.notOk(authz.connect(principal('bXX(x)-1', undefined, { role: 'device', building: 'b.+(x)' })))
  t.ok(authz.connect(principal('fixed-alice', 'alice', { role: 'device' })))
  t.notOk(authz.connect(principal('fixed-', undefined, { role: 'device' })), 'no user name: that pattern matches nothing')
})

t.test('a missing username or attribute makes the topic grant nothing', async (t) => {
  const authz = policy([{
    principals: { clientIds: ['dev-1'] },
    brokerResources: [
      { method: 'Connect', clientIds: ['{principal.attributes.building}*'] },
      { method: 'Publish', topics: ['users/{principal.username}/#', 'sites/{principal.attributes.site}/#', 'always/{principal.clientId}'] }
    ]
  }])
  const bare = principal('dev-1')
  t.notOk(authz.connect(bare), 'a clientIds pattern needing a missing attribute matches nothing (never an empty prefix)')
  t.notOk(authz.publish(bare, 'users/x'), 'no user name')
  t.notOk(authz.publish(bare, 'users//x'), 'never an empty level in its place')
  t.notOk(authz.publish(bare, 'sites//x'), 'no such attribute')
  t.ok(authz.publish(bare, 'always/dev-1'), 'the rule\'s other topics still apply')
  t.notOk(authz.publish(principal('dev-1', '', { site: '' }), 'sites//x'), 'an empty value counts as missing')
  t.notOk(authz.publish(principal('dev-1', undefined, {}), 'sites/function Object() { [native code] }/x'), 'nor is an inherited property an attribute')
  const constructorRule = policy([{ principals: { clientIds: ['dev-1'] }, brokerResources: [{ method: 'Publish', topics: ['x/{principal.attributes.constructor}'] }] }])
  t.notOk(constructorRule.publish(bare, 'x/function Object() { [native code] }'))
})

t.test('a token must be a whole level, and an invalid rule filter grants nothing', async (t) => {
  const authz = policy([{
    principals: { clientIds: ['dev-1'] },
    brokerResources: [{ method: 'Publish', topics: ['client-{principal.clientId}/#', 'x/{principal.groups}', 'a/#/b', 'c/d+', 'ok/{principal.clientId}'] }]
  }])
  const dev1 = principal('dev-1')
  t.notOk(authz.publish(dev1, 'client-dev-1/x'), 'AIO: `client-{principal.clientId}/#` is not valid')
  t.notOk(authz.publish(dev1, 'x/{principal.groups}'), 'an unknown token is not literal text')
  t.notOk(authz.publish(dev1, 'a/x/b'), '`a/#/b` is no filter: not read as `a/#`')
  t.notOk(authz.publish(dev1, 'a/x'))
  t.notOk(authz.publish(dev1, 'c/d+'))
  t.ok(authz.publish(dev1, 'ok/dev-1'))
})

// ---- principals ----

t.test('principals: OR across lists and maps, AND within a map; no principals, empty lists or an empty map match nobody', async (t) => {
  const grant = [{ method: 'Connect' as const }, { method: 'Publish' as const, topics: ['t'] }]
  const authz = policy([
    { principals: { clientIds: ['c1'], usernames: ['u1'], attributes: [{ a: '1', b: '2' }, { c: '3' }] }, brokerResources: grant }
  ])
  t.ok(authz.connect(principal('c1')))
  t.ok(authz.connect(principal('x', 'u1')))
  t.ok(authz.connect(principal('x', undefined, { a: '1', b: '2', z: '9' })))
  t.ok(authz.connect(principal('x', undefined, { c: '3' })))
  t.notOk(authz.connect(principal('x', undefined, { a: '1', c: '4' })))
  t.notOk(authz.connect(principal('u1', 'c1')), 'a client id is not a user name')

  const nobody = policy([
    { brokerResources: grant },
    { principals: {}, brokerResources: grant },
    { principals: { clientIds: [], usernames: [], attributes: [] }, brokerResources: grant },
    { principals: { attributes: [{}] }, brokerResources: grant }
  ])
  const anyone = principal('c1', 'u1', { a: '1' })
  t.notOk(nobody.connect(anyone))
  t.notOk(nobody.publish(anyone, 't'))
})

t.test('Publish or Subscribe without topics grants no topic; stateStoreResources are ignored; no rules refuse everything', async (t) => {
  const authz = policy([{
    principals: { clientIds: ['dev-1'] },
    brokerResources: [{ method: 'Publish' }, { method: 'Subscribe', topics: [] }],
    stateStoreResources: [{ method: 'ReadWrite', keyType: 'Pattern', keys: ['*'] }]
  }])
  const dev1 = principal('dev-1')
  t.notOk(authz.connect(dev1), 'no Connect resource, no connect')
  t.notOk(authz.publish(dev1, 'x'))
  t.notOk(authz.subscribe(dev1, '#'))
  const empty = compileAuthorization({ authorizationPolicies: { cache: 'Enabled', rules: [] } })
  t.notOk(empty.connect(dev1))
  t.notOk(empty.publish(dev1, 'x'))
})

// ---- publish and subscribe matching ----

t.test('publish matches MQTT filters: +, #, its parent, and $ topics only through a literal first level', async (t) => {
  const authz = policy([{
    principals: { clientIds: ['d'] },
    brokerResources: [{ method: 'Publish', topics: ['plant/+/temp', 'lines/#', '$aio/d/#'] }]
  }])
  const everything = policy([{ principals: { clientIds: ['d'] }, brokerResources: [{ method: 'Publish', topics: ['#'] }] }])
  const d = principal('d')
  t.ok(authz.publish(d, 'plant/7/temp'))
  t.notOk(authz.publish(d, 'plant/7/temp/x'))
  t.ok(authz.publish(d, 'lines'), '`lines/#` matches its parent')
  t.ok(authz.publish(d, 'lines/1/2'))
  t.notOk(authz.publish(d, 'linesx'))
  t.ok(authz.publish(d, '$aio/d/x'))
  t.ok(everything.publish(d, 'anything/else'), '`#`')
  t.notOk(everything.publish(d, '$SYS/broker'), '`#` does not match a $ topic')
  t.notOk(authz.publish(d, ''), 'an empty topic name')
  t.notOk(authz.publish(d, 'plant/+/temp'), 'a filter is not a topic name')
})

t.test('subscribe: the requested filter must lie inside a granted one; $share/{group}/ is looked through', async (t) => {
  const authz = policy([{
    principals: { clientIds: ['dev-1'] },
    brokerResources: [{ method: 'Subscribe', topics: ['factory/{principal.clientId}/#', 'plant/+/temp', 'all/#'] }]
  }])
  const everything = policy([{ principals: { clientIds: ['dev-1'] }, brokerResources: [{ method: 'Subscribe', topics: ['+/#'] }] }])
  const dev1 = principal('dev-1')
  t.ok(authz.subscribe(dev1, 'factory/dev-1/#'))
  t.ok(authz.subscribe(dev1, 'factory/dev-1/+/temp'))
  t.ok(authz.subscribe(dev1, '$share/g/factory/dev-1/#'), '$share/g/factory/dev-1/# is checked as factory/dev-1/#')
  t.notOk(authz.subscribe(dev1, '$share/g/factory/dev-2/#'))
  t.notOk(authz.subscribe(dev1, '$share//factory/dev-1/#'), 'a share without a group')
  t.notOk(authz.subscribe(dev1, '$share/g+/factory/dev-1/#'), 'a group holding a wildcard')
  t.notOk(authz.subscribe(dev1, '$share/g'), 'a share without a filter')
  t.ok(authz.subscribe(dev1, 'plant/7/temp'))
  t.ok(authz.subscribe(dev1, 'plant/+/temp'))
  t.notOk(authz.subscribe(dev1, 'plant/#'), 'wider than plant/+/temp')
  t.ok(authz.subscribe(dev1, 'all/+/x'))
  t.notOk(authz.subscribe(dev1, '#'))
  t.ok(everything.subscribe(dev1, '#'), '`+/#` grants what `#` does: every topic name has a first level')
  t.notOk(everything.subscribe(dev1, '$SYS/#'), 'no wildcard grant reaches a $ topic')
  t.notOk(authz.subscribe(dev1, 'factory/dev-1/#/x'), 'an invalid filter')
  t.notOk(authz.subscribe(dev1, ''), 'an empty filter')
})

// Filters over a small alphabet, including a $ level, empty levels and both wildcards.
const filterLevels = ['a', 'b', '', '$s', '+']
const filterArb = fc.tuple(fc.array(fc.constantFrom(...filterLevels), { minLength: 0, maxLength: 3 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((filter) => filter !== '') // no filter at all: MQTT refuses it

/** Every topic name up to `maxLevels` levels long over these level names. */
function allTopics (levelNames: readonly string[], maxLevels: number): string[] {
  let layer = levelNames.map((l) => [l])
  const all = [...layer]
  for (let n = 2; n <= maxLevels; n++) {
    layer = layer.flatMap((levels) => levelNames.map((l) => [...levels, l]))
    all.push(...layer)
  }
  return all.map((levels) => levels.join('/'))
}

const bruteForceAnswers = new Map<string, boolean>()
/**
 * Containment by definition: every topic the requested filter matches, the allowed one matches too. Topics over
 * the filters' own level names and one neither names, one level longer than the longer filter (which tells `x/#`,
 * matching `x`, from deeper filters), are enough to find a topic that tells them apart when there is one.
 */
function containsByBruteForce (allowed: string, requested: string): boolean {
  const key = `${allowed}\u0000${requested}`
  let answer = bruteForceAnswers.get(key)
  if (answer === undefined) {
    const a = compileTopicFilter(allowed)
    const r = compileTopicFilter(requested)
    const levels = [allowed, requested].flatMap((f) => f.split('/')).filter((l) => l !== '+' && l !== '#')
    const universe = allTopics([...new Set([...levels, 'fresh'])], Math.max(allowed.split('/').length, requested.split('/').length) + 1)
    answer = universe.every((topic) => !r(topic) || a(topic))
    bruteForceAnswers.set(key, answer)
  }
  return answer
}

t.test('filter containment agrees with the brute-force definition (fast-check)', async (t) => {
  t.ok(containsByBruteForce('factory/#', 'factory/+/temp') && !containsByBruteForce('factory/+/temp', 'factory/#'), 'the oracle itself')
  fc.assert(fc.property(filterArb, filterArb, (allowed, requested) => {
    const expected = containsByBruteForce(allowed, requested)
    const actual = filterContains(allowed.split('/'), requested.split('/'))
    if (actual !== expected) t.fail(`${requested} inside ${allowed}: ${actual}, expected ${expected}`)
    return actual === expected
  }), { numRuns: 3000, examples: [['factory/#', 'factory/+/temp'], ['+/+', '+/a'], ['+/#', '#'], ['a/+/#', 'a/#'], ['#', '$s/a'], ['+', '$s']] })

  // And through a compiled policy, shared or not.
  const d = principal('d')
  fc.assert(fc.property(filterArb, filterArb, (allowed, requested) => {
    const authz = policy([{ principals: { clientIds: ['d'] }, brokerResources: [{ method: 'Subscribe', topics: [allowed] }] }])
    const expected = containsByBruteForce(allowed, requested)
    return authz.subscribe(d, requested) === expected && authz.subscribe(d, `$share/g/${requested}`) === expected
  }), { numRuns: 500 })
})

t.test('publish agrees with @flowgate/mqtt\'s topic matcher for any granted filters and topic name (fast-check)', async (t) => {
  const topicArb = fc.array(fc.constantFrom('a', 'b', '', '$s', 'z'), { minLength: 1, maxLength: 5 }).map((levels) => levels.join('/')).filter((topic) => topic !== '')
  const d = principal('d')
  fc.assert(fc.property(fc.array(filterArb, { maxLength: 4 }), fc.array(topicArb, { minLength: 1, maxLength: 10 }), (granted, topics) => {
    const authz = policy([{ principals: { clientIds: ['d'] }, brokerResources: [{ method: 'Publish', topics: granted }] }], 'Disabled')
    return topics.every((topic) => authz.publish(d, topic) === granted.some((f) => compileTopicFilter(f)(topic)))
  }), { numRuns: 2000, examples: [[['a/+'], ['a/']], [['+/+'], ['/']], [['#'], ['$s/a']], [['a/#'], ['a']]] })
})

// ---- the cache ----

t.test('decisions past the per-principal cache bound are still right', async (t) => {
  const authz = policy([{ principals: { clientIds: ['d'] }, brokerResources: [{ method: 'Publish', topics: ['even/+'] }] }])
  const d = principal('d')
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 5000; i++) {
      const topic = `${i % 2 === 0 ? 'even' : 'odd'}/${i}`
      if (authz.publish(d, topic) !== (i % 2 === 0)) { t.fail(`${topic} in round ${round}`); return }
    }
  }
  t.pass('10 000 publishes over 5 000 topics answered right')
})

// Random policies over a vocabulary that reaches every branch: injection values, missing attributes, mixed levels.
const clientIds = ['dev-1', 'dev-2', '#', '+', 'a/b', '$SYS', 'building22-x', '*']
const usernames = ['alice', 'bob', '#']
const attributeValues = ['s1', 'building22', '#', '', 'x/y', '*']
const topicTemplates = [
  'factory/{principal.clientId}/#', 'factory/+/temp', 'factory/{principal.clientId}/temp', '{principal.clientId}/x', 'sites/{principal.attributes.site}/#',
  'u/{principal.username}', '#', '+/#', 'factory/#', 'factory/dev-1/temp', 'x-{principal.clientId}/y', 'a/#/b', '$SYS/#', '{principal.attributes.building}', '+', 'factory/dev-1'
]
const clientIdPatterns = ['dev-*', '{principal.attributes.building}*', '{principal.clientId}', 'building22*', '*', '{principal.username}-*', 'dev-1']
const topicNames = ['factory/dev-1/temp', 'factory/dev-2/temp', 'factory/dev-1', 'factory', 'sites/s1/a', 'u/alice', 'u/bob', '$SYS/x', 'dev-1/x', 'building22', 'x', 'factory/#', '', 'a/x/b']
const subscribeFilters = ['factory/+/temp', 'factory/#', 'factory/dev-1/#', '$share/g/factory/dev-1/#', '#', '+/#', 'sites/s1/#', '$share//x', 'a/#/b', 'u/alice', '$SYS/#', '+', 'factory/dev-1']

const attributesArb = fc.record({ site: fc.constantFrom(...attributeValues), building: fc.constantFrom(...attributeValues), role: fc.constantFrom('device', 'admin') }, { requiredKeys: [] })
const principalArb = fc.record({ clientId: fc.constantFrom(...clientIds), username: fc.option(fc.constantFrom(...usernames), { nil: undefined }), attributes: attributesArb })
  .map(({ clientId, username, attributes }) => principal(clientId, username, attributes as Record<string, string>))
const ruleArb: fc.Arbitrary<AuthorizationRule> = fc.record({
  principals: fc.record({
    clientIds: fc.subarray(clientIds),
    usernames: fc.subarray(usernames),
    attributes: fc.array(attributesArb.map((a) => a as Record<string, string>), { maxLength: 2 })
  }, { requiredKeys: [] }),
  brokerResources: fc.array(fc.oneof(
    fc.record({ method: fc.constant('Connect' as const), clientIds: fc.subarray(clientIdPatterns, { maxLength: 2 }) }, { requiredKeys: ['method'] }),
    fc.record({ method: fc.constantFrom('Publish' as const, 'Subscribe' as const), topics: fc.subarray(topicTemplates, { maxLength: 4 }) }, { requiredKeys: ['method'] })
  ), { maxLength: 4 })
}, { requiredKeys: ['brokerResources'] })
const queryArb = fc.oneof(
  fc.record({ method: fc.constant('connect' as const), topic: fc.constant('') }),
  fc.record({ method: fc.constant('publish' as const), topic: fc.constantFrom(...topicNames) }),
  fc.record({ method: fc.constant('subscribe' as const), topic: fc.constantFrom(...subscribeFilters) })
)

/** The documented semantics written the slow, obvious way, to hold the compiled policy to. */
function reference (rules: AuthorizationRule[], p: Principal, method: 'connect' | 'publish' | 'subscribe', topic: string): boolean {
  const value = (name: string): string | undefined => {
    const v = name === 'clientId' ? p.clientId : name === 'username' ? p.username : name.startsWith('attributes.') && Object.hasOwn(p.attributes, name.slice(11)) ? p.attributes[name.slice(11)] : undefined
    return v === '' ? undefined : v
  }
  const fill = (template: string): string | undefined => {
    const levels = template.split('/').map((level, i) => {
      const token = /^\{principal\.(.+)\}$/.exec(level)
      if (token === null) return level.includes('{principal.') ? undefined : level
      const v = value(token[1]!)
      return v === undefined || /[+#/]/.test(v) || (i === 0 && v.startsWith('$')) ? undefined : v
    })
    if (levels.includes(undefined)) return undefined
    const filter = levels.join('/')
    return topicFilterProblem(filter) === undefined ? filter : undefined
  }
  const clientIdMatches = (pattern: string): boolean => {
    let source = ''
    for (const part of pattern.split(/(\{principal\.[^}]+\})/)) {
      const token = /^\{principal\.(.+)\}$/.exec(part)
      if (token === null) { source += part.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*'); continue }
      const v = value(token[1]!)
      if (v === undefined) return false
      source += v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    }
    return new RegExp(`^${source}$`, 's').test(p.clientId)
  }
  const applies = (rule: AuthorizationRule): boolean =>
    rule.principals?.clientIds?.includes(p.clientId) === true ||
    (p.username !== undefined && rule.principals?.usernames?.includes(p.username) === true) ||
    rule.principals?.attributes?.some((set) => Object.keys(set).length > 0 && Object.entries(set).every(([k, v]) => Object.hasOwn(p.attributes, k) && p.attributes[k] === v)) === true
  const resources = rules.filter(applies).flatMap((rule) => rule.brokerResources ?? [])
  if (method === 'connect') return resources.some((r) => r.method === 'Connect' && ((r.clientIds ?? []).length === 0 || r.clientIds!.some(clientIdMatches)))
  const granted = resources.filter((r) => r.method === (method === 'publish' ? 'Publish' : 'Subscribe'))
    .flatMap((r) => (r.topics ?? []).map(fill)).filter((f) => f !== undefined)
  if (method === 'publish') return topic !== '' && !/[+#]/.test(topic) && granted.some((f) => compileTopicFilter(f)(topic))
  const share = /^\$share\/([^/]*)\/(.*)$/s.exec(topic)
  const inner = share === null ? topic : share[1] === '' || /[+#]/.test(share[1]!) ? undefined : share[2]!
  return inner !== undefined && topicFilterProblem(inner) === undefined && granted.some((f) => containsByBruteForce(f, inner))
}

t.test('cache on and off give the same answers, and both give the reference\'s, for random rules, principals and topics (fast-check)', async (t) => {
  fc.assert(fc.property(fc.array(ruleArb, { maxLength: 4 }), fc.array(principalArb, { minLength: 1, maxLength: 3 }), fc.array(fc.tuple(fc.nat(2), queryArb), { minLength: 1, maxLength: 25 }),
    (rules, principals, queries) => {
      const cached = policy(rules, 'Enabled')
      const uncached = policy(rules, 'Disabled')
      for (const [who, { method, topic }] of queries) {
        const p = principals[who % principals.length]!
        const ask = (authz: AuthorizationPolicy): boolean => method === 'connect' ? authz.connect(p) : authz[method](p, topic)
        const a = ask(cached)
        const b = ask(uncached)
        const expected = reference(rules, p, method, topic)
        if (a !== b || a !== expected) {
          t.fail(`${method} ${topic} by ${JSON.stringify(p)}: cached ${a}, uncached ${b}, reference ${expected}`)
          return false
        }
      }
      return true
    }), { numRuns: 1000 })
  t.pass('1000 random policies agree')
})
