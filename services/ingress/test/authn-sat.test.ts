import t, { type Test } from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import { createServiceAccountTokenAuthentication } from '../src/access/authn/service-account-token.js'
import { ReasonCode, type Credentials } from '../src/access/types.js'

const AUDIENCE = 'aio-internal'
const ISSUER = 'https://kubernetes.default.svc.cluster.local'
const SUBJECT = 'system:serviceaccount:azure-iot-operations:sensor'
// A fixed clock: tokens and checks agree on "now" without sleeping.
const NOW = Date.parse('2026-06-01T12:00:00Z')
const seconds = (ms: number): number => Math.floor(ms / 1000)

interface SigningKey { kid: string, privateKey: CryptoKey, jwk: object }
async function signingKey (kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  return { kid, privateKey, jwk: { ...await exportJWK(publicKey), kid, alg: 'RS256', use: 'sig' } }
}

function sign (key: SigningKey, claims: JWTPayload = {}, { lifetime = 3600, audience = AUDIENCE, issuer = ISSUER } = {}): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setSubject(SUBJECT)
    .setAudience(audience)
    .setIssuer(issuer)
    .setIssuedAt(seconds(NOW))
    .setNotBefore(seconds(NOW))
    .setExpirationTime(seconds(NOW) + lifetime)
    .sign(key.privateKey)
}

/** A JWKS file in a temp dir; `write` replaces its keys. */
function jwksFile (t: Test): { uri: string, write: (...keys: SigningKey[]) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-jwks-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'jwks.json')
  return { uri: pathToFileURL(path).href, write: (...keys) => writeFileSync(path, JSON.stringify({ keys: keys.map((k) => k.jwk) })) }
}

const sat = (token: string): Credentials => ({ clientId: 'sensor-7', protocolVersion: 5, authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from(token) })

t.test('a good token passes: username is its sub, expiresAt its exp, attributes from the flowgate.dev/attributes claim', async (t) => {
  const key = await signingKey('k1')
  const jwks = jwksFile(t)
  jwks.write(key)
  const method = createServiceAccountTokenAuthentication({ audiences: ['other', AUDIENCE], jwksUri: jwks.uri, issuer: ISSUER }, { now: () => NOW })
  t.equal(method.method, 'ServiceAccountToken')
  t.same(await method.authenticate(sat(await sign(key))), {
    kind: 'pass',
    principal: { clientId: 'sensor-7', username: SUBJECT, attributes: {} },
    expiresAt: (seconds(NOW) + 3600) * 1000
  })
  const withAttributes = await method.authenticate(sat(await sign(key, { 'flowgate.dev/attributes': { building: '17', floor: '2' } })))
  t.match(withAttributes, { kind: 'pass', principal: { attributes: { building: '17', floor: '2' } } })
  const notStrings = await method.authenticate(sat(await sign(key, { 'flowgate.dev/attributes': { building: 17 } })))
  t.match(notStrings, { kind: 'pass', principal: { attributes: {} } }, 'an attributes claim that is not all strings is ignored')
})

t.test('older clients: user name K8S-SAT (or starting with it) and the token in the password', async (t) => {
  const key = await signingKey('k1')
  const jwks = jwksFile(t)
  jwks.write(key)
  const method = createServiceAccountTokenAuthentication({ audiences: [AUDIENCE], jwksUri: jwks.uri }, { now: () => NOW })
  const token = await sign(key)
  for (const username of ['K8S-SAT', 'K8S-SAT-sensor']) {
    t.match(await method.authenticate({ clientId: 'c', protocolVersion: 4, username, password: Buffer.from(token) }), { kind: 'pass', principal: { username: SUBJECT } }, username)
  }
})

t.test('wrong audience, expired, not yet valid, wrong signing key, wrong issuer: fail 0x86 naming the check', async (t) => {
  const key = await signingKey('k1')
  const stranger = await signingKey('k1') // same kid, different key: the signature check must catch it
  const unknown = await signingKey('k9')
  const jwks = jwksFile(t)
  jwks.write(key)
  const method = createServiceAccountTokenAuthentication({ audiences: [AUDIENCE], jwksUri: jwks.uri, issuer: ISSUER }, { now: () => NOW })
  const cases: Array<[string, Promise<string>, RegExp]> = [
    ['wrong audience', sign(key, {}, { audience: 'someone-else' }), /wrong audience/],
    ['expired', sign(key, {}, { lifetime: -60 }), /expired/],
    ['wrong signing key, same kid', sign(stranger), /bad signature/],
    ['signing key not in the JWKS', sign(unknown), /bad signature: no key/],
    ['wrong issuer', sign(key, {}, { issuer: 'https://evil.example' }), /wrong issuer/],
    ['not a JWT', Promise.resolve('not-a-token'), /not a valid JWT/],
    ['empty', Promise.resolve(''), /no token/]
  ]
  for (const [name, token, message] of cases) {
    t.match(await method.authenticate(sat(await token)), { kind: 'fail', reasonCode: ReasonCode.BAD_USERNAME_OR_PASSWORD, message }, name)
  }
  const early = createServiceAccountTokenAuthentication({ audiences: [AUDIENCE], jwksUri: jwks.uri }, { now: () => NOW - 60_000 })
  t.match(await early.authenticate(sat(await sign(key))), { kind: 'fail', reasonCode: 0x86, message: /not valid yet/ }, 'nbf in the future')
})

t.test('credentials that are not K8S-SAT ones are irrelevant', async (t) => {
  const method = createServiceAccountTokenAuthentication({ audiences: [AUDIENCE], jwksUri: 'file:///nonexistent/jwks.json' })
  t.same(await method.authenticate({ clientId: 'c', protocolVersion: 5, username: 'sensor', password: Buffer.from('pw') }), { kind: 'irrelevant' })
  t.same(await method.authenticate({ clientId: 'c', protocolVersion: 5 }), { kind: 'irrelevant' })
  t.same(await method.authenticate({ clientId: 'c', protocolVersion: 5, authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from('x') }), { kind: 'irrelevant' })
  t.same(await method.authenticate({ clientId: 'c', protocolVersion: 5, username: 'K8S-SAT', authenticationMethod: 'SCRAM-SHA-256' }), { kind: 'irrelevant' }, 'another enhanced method wins over the user name')
})

t.test('without jwksUri the token cannot be checked: fail 0x86 saying so; an unreadable JWKS fails 0x88', async (t) => {
  const key = await signingKey('k1')
  const noKeys = createServiceAccountTokenAuthentication({ audiences: [AUDIENCE] }, { now: () => NOW })
  t.match(await noKeys.authenticate(sat(await sign(key))), { kind: 'fail', reasonCode: 0x86, message: /jwksUri is needed off Kubernetes/ })
  const missingFile = createServiceAccountTokenAuthentication({ audiences: [AUDIENCE], jwksUri: 'file:///nonexistent/jwks.json' }, { now: () => NOW })
  t.match(await missingFile.authenticate(sat(await sign(key))), { kind: 'fail', reasonCode: ReasonCode.SERVER_UNAVAILABLE, message: /K8S-SAT: cannot get the keys from file:\/\/\/nonexistent.*ENOENT/ })
})

t.test('key rotation: rewriting the JWKS file takes effect without a restart', async (t) => {
  const before = await signingKey('2026-05')
  const after = await signingKey('2026-06')
  const jwks = jwksFile(t)
  jwks.write(before)
  const method = createServiceAccountTokenAuthentication({ audiences: [AUDIENCE], jwksUri: jwks.uri }, { now: () => NOW })
  t.match(await method.authenticate(sat(await sign(before))), { kind: 'pass' })
  t.match(await method.authenticate(sat(await sign(after))), { kind: 'fail', reasonCode: 0x86 }, 'the new key is not known yet')
  jwks.write(after)
  t.match(await method.authenticate(sat(await sign(after))), { kind: 'pass' }, 'the new key works once in the file')
  t.match(await method.authenticate(sat(await sign(before))), { kind: 'fail', reasonCode: 0x86, message: /no key/ }, 'the retired key no longer does')
})
