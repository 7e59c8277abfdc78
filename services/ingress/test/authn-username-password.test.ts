import t from 'tap'
import fc from 'fast-check'
import { hashPassword } from '../src/access/authn/password-hash.js'
import { createUsernamePasswordAuthentication } from '../src/access/authn/username-password.js'
import { ReasonCode, type Credentials } from '../src/access/types.js'

// scrypt at the default N=16384 takes ~50 ms per hash; tests use N=1024.
const FAST = { N: 1024 }
const connect = (username: string | undefined, password?: string, extra: Partial<Credentials> = {}): Credentials => ({
  clientId: 'client-1',
  protocolVersion: 5,
  ...(username !== undefined ? { username } : {}),
  ...(password !== undefined ? { password: Buffer.from(password) } : {}),
  ...extra
})

t.test('the right password passes with the user\'s attributes; a wrong one and an unknown user fail with 0x86', async (t) => {
  const method = createUsernamePasswordAuthentication({
    users: { 'sensor-1': await hashPassword('s3cret', FAST), 'sensor-2': await hashPassword('other', FAST) },
    userAttributes: { 'sensor-1': { building: '17' } }
  })
  t.equal(method.method, 'UsernamePassword')
  t.same(await method.authenticate(connect('sensor-1', 's3cret')),
    { kind: 'pass', principal: { clientId: 'client-1', username: 'sensor-1', attributes: { building: '17' } } })
  t.same(await method.authenticate(connect('sensor-2', 'other')),
    { kind: 'pass', principal: { clientId: 'client-1', username: 'sensor-2', attributes: {} } }, 'no userAttributes entry: no attributes')

  const wrong = await method.authenticate(connect('sensor-1', 'S3cret'))
  t.match(wrong, { kind: 'fail', reasonCode: ReasonCode.BAD_USERNAME_OR_PASSWORD, message: /wrong password/ })
  t.notMatch(JSON.stringify(wrong), /S3cret/, 'the presented password is not in the message')
  t.match(await method.authenticate(connect('nobody', 's3cret')), { kind: 'fail', reasonCode: 0x86, message: /unknown user nobody/ })
  t.match(await method.authenticate(connect('sensor-1')), { kind: 'fail', reasonCode: 0x86, message: /no password/ })
  t.match(await method.authenticate(connect('constructor', 'x')), { kind: 'fail', reasonCode: 0x86, message: /unknown user/ }, 'Object.prototype members are not users')
})

t.test('a stored value that is not a hash is never compared as a plain password, and invalidUsers names it', async (t) => {
  const method = createUsernamePasswordAuthentication({
    users: { plain: 'hunter2', typo: 'scrypt$1024$8$1$bad', good: await hashPassword('pw', FAST) }
  })
  t.same(method.invalidUsers(), ['plain', 'typo'])
  t.match(await method.authenticate(connect('plain', 'hunter2')), { kind: 'fail', reasonCode: 0x86, message: /not a valid hash/ })
  t.match(await method.authenticate(connect('good', 'pw')), { kind: 'pass' })
})

t.test('credentials without a user name, with an MQTT 5 authentication method, or K8S-SAT ones are not relevant', async (t) => {
  const method = createUsernamePasswordAuthentication({ users: { 'K8S-SAT-listed': await hashPassword('pw', FAST) } })
  t.same(await method.authenticate(connect(undefined)), { kind: 'irrelevant' })
  t.same(await method.authenticate(connect('u', 'p', { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from('jwt') })), { kind: 'irrelevant' })
  t.same(await method.authenticate(connect('K8S-SAT', 'eyJ...')), { kind: 'irrelevant' }, 'left to ServiceAccountToken')
  t.match(await method.authenticate(connect('K8S-SAT-listed', 'pw')), { kind: 'pass' }, 'unless it is a configured user')
})

t.test('an unknown user costs an scrypt run like a known one (timing does not reveal who exists)', async (t) => {
  // Users hashed at a cost high enough to dominate the measurement; the dummy takes their parameters.
  const slow = { N: 16384 }
  const method = createUsernamePasswordAuthentication({ users: { known: await hashPassword('pw', slow) } })
  const time = async (username: string): Promise<number> => {
    const start = process.hrtime.bigint()
    await method.authenticate(connect(username, 'wrong'))
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  await time('known') // warm-up
  const known = Math.min(await time('known'), await time('known'), await time('known'))
  const unknown = Math.min(await time('ghost'), await time('ghost'), await time('ghost'))
  t.ok(unknown > known / 3, `unknown user ${unknown.toFixed(1)} ms vs known ${known.toFixed(1)} ms: same order`)
})

t.test('property: a password hashed then verified passes; any other password fails', async (t) => {
  const username = fc.string({ minLength: 1, maxLength: 20 }).filter((u) => !u.startsWith('K8S-SAT'))
  await fc.assert(fc.asyncProperty(username, fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), async (user, password, other) => {
    fc.pre(password !== other)
    const method = createUsernamePasswordAuthentication({ users: { [user]: await hashPassword(password, FAST) } })
    const right = await method.authenticate(connect(user, password))
    const wrong = await method.authenticate(connect(user, other))
    return right.kind === 'pass' && right.principal.username === user && wrong.kind === 'fail' && wrong.reasonCode === 0x86
  }), { numRuns: 25 })
  t.pass('held for 25 runs')
})
