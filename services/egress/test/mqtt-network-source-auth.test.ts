import t from 'tap'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { Writable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { openFileStore, type StoredResource } from '@flowgate/store'
import { hashPassword, startIngress, type AccessSource } from '@flowgate/ingress'
// The testkit is not a dependency of this package: its PKI helper (node builtins and the openssl CLI only) by path.
import { makeDevicePki } from '../../../test/kit/src/device-pki.js'
import { createMqttNetworkSource } from '../src/mqtt-network-source.js'
import { startEgress } from '../src/runtime.js'
import type { InboundMqttMessage } from '../src/ports.js'
import type { ResolvedDataflow } from '../src/resolve.js'
import type { ResourceReader } from '../src/endpoint-secrets.js'

// The MQTT source (ingress → egress in the split deployment) connects with its endpoint's authentication and TLS,
// as the Kafka → MQTT publisher does: an ingress port with TLS (the test PKI's server certificate) and
// UsernamePassword; the source trusts the CA from the endpoint's ConfigMap and sends the user name and password of
// the endpoint's Secret. A wrong password is refused, and the start fails with FG_ERR_MQTT_AUTH_FAILED: logged, and
// in the dataflow's status. X509Certificate (the Secret's tls.crt / tls.key) and ServiceAccountToken (K8S-SAT) too.

const quiet = pino({ level: 'silent' })
const BROKER_API = 'mqttbroker.iotoperations.azure.com/v1'
const CONNECTIVITY_API = 'connectivity.iotoperations.azure.com/v1'
const NS = 'ns'
const EGRESS_PASSWORD = 'egress-secret-password'
const DEVICE_PASSWORD = 'device-secret-password'

const pki = makeDevicePki()
t.teardown(() => pki.remove())

/** The store as the front door sees it, in memory: fixed resources, no changes. */
function memoryAccess (items: StoredResource[]): AccessSource {
  const find = (kind: string, ns: string, name: string): StoredResource | undefined => items.find((r) => r.kind === kind && r.metadata.namespace === ns && r.metadata.name === name)
  return {
    list: async () => ({ items, resourceVersion: '1' }),
    async * changes (_from, signal) { await new Promise((resolve) => signal.addEventListener('abort', resolve)) },
    secret: async (ns, name) => {
      const s = find('Secret', ns, name) as { stringData?: Record<string, string> } | undefined
      return s === undefined ? undefined : Object.fromEntries(Object.entries(s.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v)]))
    },
    configMap: async (ns, name) => find('ConfigMap', ns, name)?.data,
    putGeneratedSecret: async () => {},
    setStatus: async () => {}
  }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** An ingress port with TLS + X509 client certificates signed by the test PKI. */
async function ingressWithCertificates (t: { teardown: (fn: () => unknown) => void }): Promise<{ port: number }> {
  const port = await freePort()
  const access = memoryAccess([
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'server-tls', namespace: NS }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': pki.server.cert, 'tls.key': pki.server.key } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'client-ca', namespace: NS }, data: { 'root.pem': pki.root.leaf } },
    { apiVersion: BROKER_API, kind: 'BrokerAuthentication', metadata: { name: 'x509', namespace: NS }, spec: { authenticationMethods: [{ method: 'X509', x509Settings: { trustedClientCaCert: 'client-ca' } }] } },
    { apiVersion: BROKER_API, kind: 'BrokerListener', metadata: { name: 'tls', namespace: NS }, spec: { ports: [{ port, protocol: 'Mqtt', authenticationRef: 'x509', tls: { mode: 'Manual', manual: { secretRef: 'server-tls' } } }] } }
  ])
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, access, networkHost: '127.0.0.1' })
  t.teardown(() => ingress.close())
  await ingress.frontDoor!.ready
  return { port }
}

/** An ingress whose only BrokerListener port takes TLS + UsernamePassword (users `egress` and `sensor-1`). */
async function ingressWithPasswords (t: { teardown: (fn: () => unknown) => void }): Promise<{ port: number }> {
  const port = await freePort()
  const hashes = { egress: await hashPassword(EGRESS_PASSWORD, { N: 1024 }), 'sensor-1': await hashPassword(DEVICE_PASSWORD, { N: 1024 }) }
  const access = memoryAccess([
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'server-tls', namespace: NS }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': pki.server.cert, 'tls.key': pki.server.key } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'passwords', namespace: NS }, stringData: hashes },
    { apiVersion: BROKER_API, kind: 'BrokerAuthentication', metadata: { name: 'pw', namespace: NS }, spec: { authenticationMethods: [{ method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 'passwords' } }] } },
    { apiVersion: BROKER_API, kind: 'BrokerListener', metadata: { name: 'tls', namespace: NS }, spec: { ports: [{ port, protocol: 'Mqtt', authenticationRef: 'pw', tls: { mode: 'Manual', manual: { secretRef: 'server-tls' } } }] } }
  ])
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, access, networkHost: '127.0.0.1' })
  t.teardown(() => ingress.close())
  await ingress.frontDoor!.ready
  return { port }
}

/** The endpoint the source reads (as stored: defaults applied), with the Secret and ConfigMap it names. */
function endpointSpec (port: number): Record<string, unknown> {
  return {
    endpointType: 'Mqtt',
    mqttSettings: {
      host: `127.0.0.1:${port}`,
      tls: { mode: 'Enabled', trustedCaCertificateConfigMapRef: 'ingress-ca' },
      authentication: { method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 'egress-credentials' } },
      keepAliveSeconds: 60,
      sessionExpirySeconds: 3600
    }
  }
}

function dataflow (port: number): ResolvedDataflow {
  return {
    key: `Dataflow/${NS}/df`,
    name: 'df',
    namespace: NS,
    source: { name: 'ingress', namespace: NS, resourceVersion: '1', embedded: false, spec: endpointSpec(port) as never, dataSources: ['site/#'] },
    destination: { name: 'k', namespace: NS, resourceVersion: '1', embedded: false, spec: { endpointType: 'Kafka', kafkaSettings: {} }, dataDestination: 'out' },
    instanceCount: 1,
    fingerprint: '1'
  }
}

function reader (password: string, ca = pki.root.leaf): ResourceReader & { reads: string[] } {
  const reads: string[] = []
  return {
    reads,
    async secret (ns, name) { reads.push(`Secret/${ns}/${name}`); return { username: Buffer.from('egress'), password: Buffer.from(password) } },
    async configMap (ns, name) { reads.push(`ConfigMap/${ns}/${name}`); return { 'ca.crt': ca } }
  }
}

/** A pino logger whose lines land in an array. */
function capturingLogger (): { logger: pino.Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l)); cb() } })
  return { logger: pino({ level: 'info' }, stream), lines }
}

async function until (check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('the source connects with the endpoint\'s Secret over TLS trusting the endpoint\'s CA, and receives a device\'s message', async (t) => {
  const { port } = await ingressWithPasswords(t)
  const r = reader(EGRESS_PASSWORD)
  const source = createMqttNetworkSource({ reader: r, drainMs: 100 })
  const got: InboundMqttMessage[] = []
  const s = await source(dataflow(port), { instanceId: 0, logger: quiet, accept: async (m) => { got.push(m); return {} } })
  t.teardown(() => s.close())
  t.same(r.reads.sort(), [`ConfigMap/${NS}/ingress-ca`, `Secret/${NS}/egress-credentials`], 'the endpoint\'s Secret and CA ConfigMap are read')

  const device = await connectAsync(`mqtts://127.0.0.1:${port}`, { protocolVersion: 5, ca: pki.root.leaf, rejectUnauthorized: true, clientId: 'sensor-1', username: 'sensor-1', password: DEVICE_PASSWORD })
  t.teardown(() => device.endAsync())
  await device.publishAsync('site/sensor-1/telemetry', 'hello', { qos: 1 })
  await until(() => got.length === 1, 'the message at the egress')
  t.equal(got[0]!.topic, 'site/sensor-1/telemetry')
  t.equal(got[0]!.payload.toString(), 'hello')
})

t.test('a wrong password is refused: the start fails with FG_ERR_MQTT_AUTH_FAILED and an error is logged', async (t) => {
  const { port } = await ingressWithPasswords(t)
  const { logger, lines } = capturingLogger()
  const source = createMqttNetworkSource({ reader: reader('not-the-password') })
  const started = Date.now()
  await t.rejects(source(dataflow(port), { instanceId: 0, logger, accept: async () => ({}) }), { code: 'FG_ERR_MQTT_AUTH_FAILED', message: /UsernamePassword of endpoint ns\/ingress.*Bad User Name or Password/i })
  t.ok(Date.now() - started < 4_000, 'refused at the first CONNACK, not after the start timeout')
  t.ok(lines.some((l) => l.level === 50 && /refused this egress' credentials/.test(String(l.msg)) && l.code === 0x86), `logged as an error: ${JSON.stringify(lines)}`)
})

t.test('another CA in the endpoint\'s ConfigMap: the TLS handshake fails, logged', async (t) => {
  const { port } = await ingressWithPasswords(t)
  const { logger, lines } = capturingLogger()
  const source = createMqttNetworkSource({ reader: reader(EGRESS_PASSWORD, pki.rogue.root.leaf) })
  let got = 0
  const s = await source(dataflow(port), { instanceId: 0, logger, accept: async () => { got++; return {} } })
  t.teardown(() => s.close())
  t.ok(lines.some((l) => l.msg === 'MQTT source error' && /certificate/i.test(String(l.err))), `a TLS error is logged: ${JSON.stringify(lines.map((l) => l.err))}`)
  t.notOk(lines.some((l) => l.msg === 'connected to the MQTT source'), 'never connected')
  t.equal(got, 0)
})

t.test('X509Certificate: the source presents the endpoint\'s Secret\'s tls.crt / tls.key', async (t) => {
  const { port } = await ingressWithCertificates(t)
  const flow = dataflow(port)
  const settings = (flow.source.spec.mqttSettings as Record<string, unknown>)
  settings.authentication = { method: 'X509Certificate', x509CertificateSettings: { secretRef: 'egress-cert' } }
  const egressCert = pki.device('flowgate-egress')
  const r: ResourceReader = {
    async secret (_ns, name): Promise<Record<string, Buffer>> { return name === 'egress-cert' ? { 'tls.crt': Buffer.from(egressCert.cert), 'tls.key': Buffer.from(egressCert.key) } : {} },
    async configMap () { return { 'ca.crt': pki.root.leaf } }
  }
  const got: string[] = []
  const s = await createMqttNetworkSource({ reader: r, drainMs: 100 })(flow, { instanceId: 0, logger: quiet, accept: async (m) => { got.push(m.payload.toString()); return {} } })
  t.teardown(() => s.close())
  const device = pki.device('sensor-2')
  const client = await connectAsync(`mqtts://127.0.0.1:${port}`, { protocolVersion: 5, ca: pki.root.leaf, rejectUnauthorized: true, cert: device.cert, key: device.key, clientId: 'sensor-2' })
  t.teardown(() => client.endAsync())
  await client.publishAsync('site/sensor-2/telemetry', 'by certificate', { qos: 1 })
  await until(() => got.includes('by certificate'), 'the message at the egress')
  // Without a certificate the same port refuses the source.
  settings.authentication = { method: 'Anonymous', anonymousSettings: {} }
  await t.rejects(createMqttNetworkSource({ reader: r })(flow, { instanceId: 1, logger: quiet, accept: async () => ({}) }), { code: 'FG_ERR_MQTT_AUTH_FAILED' })
})

t.test('ServiceAccountToken: the source sends the token for the endpoint\'s audience as K8S-SAT', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-egress-sat-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] }))
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const token = (aud: string): string => {
    const now = Math.floor(Date.now() / 1000)
    const body = `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64({ sub: 'system:serviceaccount:flowgate:flowgate-egress', aud, iat: now, exp: now + 600 })}`
    return `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`
  }
  const port = await freePort()
  const access = memoryAccess([
    { apiVersion: BROKER_API, kind: 'BrokerAuthentication', metadata: { name: 'sat', namespace: NS }, spec: { authenticationMethods: [{ method: 'ServiceAccountToken', serviceAccountTokenSettings: { audiences: ['flowgate-ingress'], jwksUri: `file://${join(dir, 'jwks.json')}` } }] } },
    { apiVersion: BROKER_API, kind: 'BrokerListener', metadata: { name: 'sat', namespace: NS }, spec: { ports: [{ port, protocol: 'Mqtt', authenticationRef: 'sat' }] } }
  ])
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, access, networkHost: '127.0.0.1' })
  t.teardown(() => ingress.close())
  await ingress.frontDoor!.ready
  const flow = dataflow(port)
  flow.source.spec.mqttSettings = { host: `127.0.0.1:${port}`, tls: { mode: 'Disabled' }, authentication: { method: 'ServiceAccountToken', serviceAccountTokenSettings: { audience: 'flowgate-ingress' } } }
  const audiences: string[] = []
  const got: string[] = []
  const s = await createMqttNetworkSource({ reader: reader(''), drainMs: 100, readServiceAccountToken: (a) => { audiences.push(a); return token(a) } })(flow, { instanceId: 0, logger: quiet, accept: async (m) => { got.push(m.payload.toString()); return {} } })
  t.teardown(() => s.close())
  t.same(audiences, ['flowgate-ingress'], 'the token for the endpoint\'s audience')
  const device = await connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, clientId: 'sat-device', properties: { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from(token('flowgate-ingress')) } })
  t.teardown(() => device.endAsync())
  await device.publishAsync('site/sat/telemetry', 'by token', { qos: 1 })
  await until(() => got.includes('by token'), 'the message at the egress')
  // A token for another audience: refused at the first CONNACK.
  await t.rejects(createMqttNetworkSource({ reader: reader(''), readServiceAccountToken: () => token('someone-else') })(flow, { instanceId: 1, logger: quiet, accept: async () => ({}) }), { code: 'FG_ERR_MQTT_AUTH_FAILED' })
})

t.test('in the runtime: a wrong password shows in the dataflow\'s status; the Secret fixed, the dataflow runs', async (t) => {
  const { port } = await ingressWithPasswords(t)
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-egress-auth-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const store = await openFileStore(dir)
  t.teardown(() => store.close())
  const meta = (name: string): StoredResource['metadata'] => ({ name, namespace: NS })
  const credentials = (password: string): StoredResource => ({ apiVersion: 'v1', kind: 'Secret', metadata: meta('egress-credentials'), stringData: { username: 'egress', password } })
  await store.putAll([
    { resource: credentials('not-the-password') },
    { resource: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('ingress-ca'), data: { 'ca.crt': pki.root.leaf } } },
    { resource: { apiVersion: CONNECTIVITY_API, kind: 'DataflowEndpoint', metadata: meta('ingress'), spec: endpointSpec(port) } },
    { resource: { apiVersion: CONNECTIVITY_API, kind: 'DataflowEndpoint', metadata: meta('kafka'), spec: { endpointType: 'Kafka', kafkaSettings: { host: 'unused:9092' } } } },
    { resource: { apiVersion: CONNECTIVITY_API, kind: 'Dataflow', metadata: meta('df'), spec: { operations: [{ operationType: 'Source', sourceSettings: { endpointRef: 'ingress', dataSources: ['site/#'] } }, { operationType: 'Destination', destinationSettings: { endpointRef: 'kafka', dataDestination: 'out' } }] } } }
  ])
  // The Secret as the egress command reads it (the store holds it in the clear here: no sealing in this test).
  const storeReader: ResourceReader = {
    async secret (ns, name) {
      const s = await store.get({ kind: 'Secret', namespace: ns, name })
      return Object.fromEntries(Object.entries((s?.stringData ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v)]))
    },
    async configMap (ns, name) { return ((await store.get({ kind: 'ConfigMap', namespace: ns, name }))?.data ?? {}) as Record<string, string> }
  }
  const sent: string[] = []
  const { logger, lines } = capturingLogger()
  const runtime = startEgress({
    store,
    source: { setInterceptor () {} },
    logger,
    options: { statusIntervalMs: 100 },
    factories: {
      mqttSource: createMqttNetworkSource({ reader: storeReader, drainMs: 100 }),
      mqttToKafkaTranslator: () => (m) => ({ ok: true, record: { topic: 'out', key: null, value: m.payload, headers: [] } }),
      kafkaDestination: async () => ({ send (record, done) { sent.push(Buffer.from(record.value).toString()); done(null, { partition: 0, offset: String(sent.length) }) }, close: async () => {} })
    }
  })
  t.teardown(() => runtime.close())
  const ready = async (): Promise<{ status: string, reason: string, message?: string } | undefined> =>
    ((await store.get({ kind: 'Dataflow', namespace: NS, name: 'df' }))?.status as { conditions?: Array<{ type: string, status: string, reason: string, message?: string }> } | undefined)?.conditions?.find((c) => c.type === 'Ready')
  await runtime.ready
  await until(() => lines.some((l) => l.msg === 'dataflow failed to start'), 'the failed start')
  const refused = await ready()
  t.equal(refused?.status, 'False')
  t.equal(refused?.reason, 'FG_ERR_MQTT_AUTH_FAILED')
  t.match(refused?.message, /Bad User Name or Password/i)
  t.same(runtime.running(), [])

  await store.put(credentials(EGRESS_PASSWORD))
  let condition: Awaited<ReturnType<typeof ready>>
  const end = Date.now() + 10_000
  while ((condition = await ready())?.status !== 'True' && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(condition?.status, 'True', `running once the Secret is right: ${JSON.stringify(condition)}`)

  const device = await connectAsync(`mqtts://127.0.0.1:${port}`, { protocolVersion: 5, ca: pki.root.leaf, rejectUnauthorized: true, clientId: 'sensor-1', username: 'sensor-1', password: DEVICE_PASSWORD })
  t.teardown(() => device.endAsync())
  await device.publishAsync('site/sensor-1/telemetry', 'through the runtime', { qos: 1 })
  await until(() => sent.includes('through the runtime'), 'the message at the (fake) Kafka destination')
})
