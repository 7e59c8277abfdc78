import t, { type Test } from 'tap'
import { X509Certificate } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { makeDevicePki } from '@flowgate/testkit'
import { createCustomAuthentication, type CustomAuthenticationSettings } from '../src/access/authn/custom.js'
import { ReasonCode, type AuthenticationMethod, type Credentials } from '../src/access/types.js'

const pki = makeDevicePki()
t.teardown(() => pki.remove())

interface SeenRequest { url: string, headers: IncomingMessage['headers'], body: Record<string, unknown>, clientCertCn?: string }

/**
 * A custom authentication server after AIO's API 0.5.0 (auth-server-template): the user name picks the answer, so
 * each test says what it wants. Requests are kept for the assertions.
 */
async function authServer (t: Test, tls: { requireClientCert?: boolean } = {}): Promise<{ endpoint: string, seen: SeenRequest[] }> {
  const seen: SeenRequest[] = []
  const server: Server = createServer({
    cert: pki.server.cert,
    key: pki.server.key,
    ...(tls.requireClientCert === true ? { ca: pki.root.cert, requestCert: true, rejectUnauthorized: true } : {})
  }, (req, res) => { void answer(req, res, seen) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}/authenticate`, seen }
}

async function answer (req: IncomingMessage, res: ServerResponse, seen: SeenRequest[]): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
  const peer = (req.socket as TLSSocket).getPeerCertificate()
  seen.push({ url: req.url ?? '', headers: req.headers, body, ...(peer?.subject?.CN !== undefined ? { clientCertCn: String(peer.subject.CN) } : {}) })
  const json = (status: number, value: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value)) }
  const url = new URL(req.url ?? '/', 'https://127.0.0.1')
  if (req.method !== 'POST') return void res.writeHead(405).end('only POST')
  if (url.searchParams.get('api-version') !== '0.5.0') return json(422, { supportedVersions: ['0.5.0'] })
  switch (body.username) {
    case 'allowed': return json(200, { attributes: { group: 'group1', floor: 2 } })
    case 'expiring': return json(200, { expiry: '2030-05-08T20:04:16+00:00', attributes: {} })
    case 'stale': return json(200, { expiry: '2020-01-01T00:00:00Z', attributes: {} })
    case 'denied-87': return json(403, { reason: 135, message: 'not on the list' })
    case 'denied-86': return json(403, { reason: 134 })
    case 'denied-no-reason': return json(403, {})
    case 'crash': return void res.writeHead(500).end('internal error')
    case 'echo': return void res.writeHead(400, { 'content-type': 'text/plain' }).end(`bad request: ${JSON.stringify(body)}`)
    case 'garbage': return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"attributes":')
    case 'version': return json(422, { supportedVersions: ['1.0.0'] })
    case 'slow': return // never answers
    default: return json(200, { attributes: {} })
  }
}

function method (t: Test, settings: CustomAuthenticationSettings, deps?: { now?: () => number }): AuthenticationMethod {
  const m = createCustomAuthentication({ ca: pki.root.cert, ...settings }, deps)
  t.teardown(() => m.close?.())
  return m
}

const connect = (username?: string, password?: string, extra: Partial<Credentials> = {}): Credentials => ({
  clientId: 'client-1',
  protocolVersion: 5,
  ...(username !== undefined ? { username } : {}),
  ...(password !== undefined ? { password: Buffer.from(password) } : {}),
  ...extra
})

t.test('the server allows: pass with its attributes as strings; the request follows API 0.5.0', async (t) => {
  const server = await authServer(t)
  const custom = method(t, { endpoint: server.endpoint, headers: { 'X-Api-Key': 'k-123', authorization: 'Bearer abc' } })
  t.equal(custom.method, 'Custom')
  t.same(await custom.authenticate(connect('allowed', 'pässword')),
    { kind: 'pass', principal: { clientId: 'client-1', username: 'allowed', attributes: { group: 'group1', floor: '2' } } })
  const [request] = server.seen
  t.equal(request?.url, '/authenticate?api-version=0.5.0')
  t.equal(request?.headers['content-type'], 'application/json')
  t.equal(request?.headers['x-api-key'], 'k-123', 'configured headers are sent')
  t.equal(request?.headers.authorization, 'Bearer abc')
  t.same(request?.body, { type: 'connect', username: 'allowed', password: Buffer.from('pässword').toString('base64') })
})

t.test('the device\'s certificate chain is forwarded as PEM in certs', async (t) => {
  const server = await authServer(t)
  const custom = method(t, { endpoint: server.endpoint })
  const device = pki.device('smart-fan')
  const chain = (device.cert.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem))
  t.match(await custom.authenticate(connect(undefined, undefined, { certificate: { chain, verified: true } })), { kind: 'pass' })
  const certs = String(server.seen[0]?.body.certs)
  const forwarded = (certs.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem))
  t.same(forwarded.map((c) => c.subject), ['CN=smart-fan', 'CN=Flowgate Test Intermediate CA'], 'leaf first, then the intermediate')
  t.notOk('username' in (server.seen[0]?.body ?? {}), 'no user name, no username field')
})

t.test('the server denies: fail with its reason code (0x87, 0x86), 0x87 when it gives none', async (t) => {
  const server = await authServer(t)
  const custom = method(t, { endpoint: server.endpoint })
  t.same(await custom.authenticate(connect('denied-87', 'pw')),
    { kind: 'fail', reasonCode: ReasonCode.NOT_AUTHORIZED, message: 'custom authentication server denied the client (reason 0x87): not on the list' })
  t.match(await custom.authenticate(connect('denied-86', 'pw')), { kind: 'fail', reasonCode: ReasonCode.BAD_USERNAME_OR_PASSWORD })
  t.match(await custom.authenticate(connect('denied-no-reason', 'pw')), { kind: 'fail', reasonCode: ReasonCode.NOT_AUTHORIZED })
})

t.test('an expiry becomes expiresAt; one in the past fails 0x87', async (t) => {
  const server = await authServer(t)
  const custom = method(t, { endpoint: server.endpoint }, { now: () => Date.parse('2026-01-01T00:00:00Z') })
  t.match(await custom.authenticate(connect('expiring')), { kind: 'pass', expiresAt: Date.parse('2030-05-08T20:04:16Z') })
  t.match(await custom.authenticate(connect('stale')), { kind: 'fail', reasonCode: 0x87, message: /expiry in the past/ })
})

t.test('mutual TLS: the broker presents auth.x509\'s certificate; without it the server cannot be asked (irrelevant)', async (t) => {
  const server = await authServer(t, { requireClientCert: true })
  const brokerCert = pki.device('flowgate-broker')
  const withCert = method(t, { endpoint: server.endpoint, clientCert: { cert: brokerCert.cert, key: brokerCert.key } })
  t.match(await withCert.authenticate(connect('allowed', 'pw')), { kind: 'pass' })
  t.equal(server.seen[0]?.clientCertCn, 'flowgate-broker')
  const withoutCert = method(t, { endpoint: server.endpoint })
  t.match(await withoutCert.authenticate(connect('allowed', 'pw')), { kind: 'irrelevant', message: /custom authentication server unusable/ })
  const wrongCa = method(t, { endpoint: server.endpoint, ca: pki.rogue.root.cert, clientCert: { cert: brokerCert.cert, key: brokerCert.key } })
  t.match(await wrongCa.authenticate(connect('allowed', 'pw')), { kind: 'irrelevant', message: /certificate/i }, 'a server certificate outside caCertConfigMap is refused')
})

t.test('an unreachable server, a 500, a malformed answer or an unsupported version: irrelevant, with a message', async (t) => {
  const server = await authServer(t)
  const custom = method(t, { endpoint: server.endpoint })
  t.match(await custom.authenticate(connect('crash', 'pw')), { kind: 'irrelevant', message: /HTTP 500: internal error/ })
  t.match(await custom.authenticate(connect('garbage', 'pw')), { kind: 'irrelevant', message: /not a JSON object/ })
  t.match(await custom.authenticate(connect('version', 'pw')), { kind: 'irrelevant', message: /HTTP 422; it supports: 1\.0\.0/ })

  const closed = createServer({ cert: pki.server.cert, key: pki.server.key })
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  const unreachable = method(t, { endpoint: `https://127.0.0.1:${port}/` })
  t.match(await unreachable.authenticate(connect('allowed', 'pw')), { kind: 'irrelevant', message: /ECONNREFUSED/ })
})

t.test('no answer within timeoutMs: irrelevant, promptly', async (t) => {
  const server = await authServer(t)
  const custom = method(t, { endpoint: server.endpoint, timeoutMs: 300 })
  const start = Date.now()
  const outcome = await custom.authenticate(connect('slow', 'pw'))
  const elapsed = Date.now() - start
  t.match(outcome, { kind: 'irrelevant', message: /no answer within 300 ms/ })
  t.ok(elapsed >= 250 && elapsed < 1300, `gave up after ${elapsed} ms`)
})

t.test('the password never appears in a message, even when the server echoes the request', async (t) => {
  const server = await authServer(t)
  const custom = method(t, { endpoint: server.endpoint })
  const outcome = await custom.authenticate(connect('echo', 'hunter2-secret'))
  t.match(outcome, { kind: 'irrelevant', message: /HTTP 400: bad request/ })
  const text = JSON.stringify(outcome)
  t.notMatch(text, /hunter2-secret/)
  t.notMatch(text, new RegExp(Buffer.from('hunter2-secret').toString('base64')))
})

t.test('MQTT 5 enhanced authentication is irrelevant: API 0.5.0 cannot carry it', async (t) => {
  const server = await authServer(t)
  const custom = method(t, { endpoint: server.endpoint })
  t.match(await custom.authenticate(connect('allowed', undefined, { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from('jwt') })), { kind: 'irrelevant' })
  t.equal(server.seen.length, 0, 'the server was not asked')
})

t.test('the endpoint must be https://', async (t) => {
  t.throws(() => createCustomAuthentication({ endpoint: 'http://127.0.0.1:1/' }), /must be an https:\/\/ URL/)
  t.throws(() => createCustomAuthentication({ endpoint: 'not a url' }), /not a URL/)
})
