import t, { type Test } from 'tap'
import { X509Certificate } from 'node:crypto'
import { execFile } from 'node:child_process'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt'
import { startGateway } from '@flowgate/gateway'
import { hashPassword } from '@flowgate/ingress'
import { freePort, rig, createTopic, readRecords, uniqueTopic, startTestGateway, eventually, manifests, kafkaEndpoint, dataflow, makeDevicePki } from '@flowgate/testkit'

// Devices on the network, as a user sets it up from AIO's docs: a BrokerListener port on every interface with a
// server certificate from a Secret, a BrokerAuthentication (X509 with a root → intermediate → device chain, then
// user names and scrypt-hashed passwords), a BrokerAuthorization with {principal.clientId} rules — reached through
// 127.0.0.1 and ::1 by mqtt.js (v5 and 3.1.1) and Mosquitto's clients, with the messages read back from Kafka.

const r = await rig()
const run = promisify(execFile)
const NS = 'azure-iot-operations'
const BROKER_API = 'mqttbroker.iotoperations.azure.com/v1'
const pki = makeDevicePki()
t.teardown(() => pki.remove())

/** AIO's subject notation (`CN = …, O = …`) of a certificate, as a user copies it from `openssl x509 -subject`. */
const aioSubject = (pem: string): string => new X509Certificate(pem).subject.split('\n').map((l) => l.replace('=', ' = ')).join(', ')

const port = await freePort()
const topic = uniqueTopic('e2e-devices')
await createTopic(topic, 1)
const gw = await startTestGateway(t, startGateway)
const users = async (entries: Record<string, string>): Promise<Record<string, string>> =>
  Object.fromEntries(await Promise.all(Object.entries(entries).map(async ([u, p]) => [u, await hashPassword(p, { N: 1024 })])))

const resources = (extra: { users: Record<string, string>, serverCert?: { cert: string, key: string } }): string => manifests(
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'device-ca', namespace: NS }, data: { 'root.pem': pki.root.leaf } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'broker-server-cert', namespace: NS }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': extra.serverCert?.cert ?? pki.server.cert, 'tls.key': extra.serverCert?.key ?? pki.server.key } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'device-users', namespace: NS }, type: 'Opaque', stringData: extra.users },
  {
    apiVersion: BROKER_API,
    kind: 'BrokerAuthentication',
    metadata: { name: 'devices', namespace: NS },
    spec: {
      authenticationMethods: [
        { method: 'X509', x509Settings: { trustedClientCaCert: 'device-ca', authorizationAttributes: { plant: { subject: aioSubject(pki.intermediate.leaf), attributes: { site: 'north' } } } } },
        { method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 'device-users' } }
      ]
    }
  },
  {
    apiVersion: BROKER_API,
    kind: 'BrokerAuthorization',
    metadata: { name: 'devices', namespace: NS },
    spec: {
      authorizationPolicies: {
        cache: 'Enabled',
        rules: [
          {
            principals: { attributes: [{ site: 'north' }], usernames: ['oven'] },
            brokerResources: [
              { method: 'Connect' },
              { method: 'Publish', topics: ['factory/{principal.clientId}/#', 'sites/{principal.attributes.site}/#'] },
              { method: 'Subscribe', topics: ['factory/{principal.clientId}/#'] }
            ]
          }
        ]
      }
    }
  },
  {
    apiVersion: BROKER_API,
    kind: 'BrokerListener',
    metadata: { name: 'devices', namespace: NS },
    spec: {
      serviceType: 'LoadBalancer',
      ports: [{ port, protocol: 'Mqtt', authenticationRef: 'devices', authorizationRef: 'devices', tls: { mode: 'Manual', manual: { secretRef: 'broker-server-cert' } } }]
    }
  },
  kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext }),
  dataflow({ name: 'devices-to-kafka', source: { endpointRef: 'default', dataSources: ['factory/#', 'sites/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
)

const applied = await gw.admin.apply(resources({ users: await users({ oven: 'hot-s3cret', fridge: 'cold-s3cret' }) }))
if (applied.status !== 200) throw new Error(`apply failed: ${JSON.stringify(applied.body)}`)
const listenerStatus = await eventually(async () => {
  const { body } = await gw.admin.get(`/api/v1/namespaces/${NS}/brokerlisteners/devices`)
  return body.status?.ports?.[0]?.bound ? body.status : undefined
}, 20_000, 'the listener port to be served')
await eventually(async () => {
  const { body } = await gw.admin.get(`/api/v1/namespaces/${NS}/dataflows/devices-to-kafka`)
  return body.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True' ? true : undefined
}, 20_000, 'the dataflow to be Ready')

const dev1 = pki.device('dev-1')
const tlsOptions = (cert?: { cert: string, key: string }): IClientOptions => ({ ca: pki.root.leaf, ...(cert !== undefined ? { cert: cert.cert, key: cert.key } : {}), reconnectPeriod: 0, connectTimeout: 5000 })
const connect = async (t: Test, host: string, options: IClientOptions): Promise<MqttClient> => {
  const client = await connectAsync(`mqtts://${host}:${port}`, options)
  t.teardown(() => client.endAsync(true))
  return client
}

t.test('the listener port is served on every interface, with the Kubernetes-only fields noted', async (t) => {
  t.match(listenerStatus.ports[0].bound, /^\[::\]:\d+$|^0\.0\.0\.0:\d+$/, 'bound off loopback: the port has authentication')
  t.equal(listenerStatus.ports[0].tls, 'Manual')
  t.ok(listenerStatus.ports[0].notes.some((n: string) => n.includes('serviceType')), 'serviceType is reported as ignored')
  t.equal(listenerStatus.conditions[0].status, 'True')
})

t.test('a device with a certificate from the intermediate publishes into Kafka over 127.0.0.1 (v5) and ::1 (3.1.1), and Mosquitto too', async (t) => {
  const v5 = await connect(t, '127.0.0.1', { ...tlsOptions(dev1), protocolVersion: 5, clientId: 'dev-1' })
  await v5.publishAsync('factory/dev-1/temp', 'v5 over ipv4', { qos: 1 })
  await v5.publishAsync('sites/north/line-1', 'attribute from the intermediate', { qos: 1 })
  await v5.endAsync()
  // The same device again (same client id) over IPv6 and MQTT 3.1.1.
  const v3 = await connect(t, '[::1]', { ...tlsOptions(dev1), protocolVersion: 4, clientId: 'dev-1', servername: 'localhost' })
  await v3.publishAsync('factory/dev-1/temp', 'v3 over ipv6', { qos: 1 })
  const dev3 = pki.device('dev-3')
  await run('mosquitto_pub', ['-h', 'localhost', '-p', String(port), '--cafile', pki.root.certFile, '--cert', dev3.certFile, '--key', dev3.keyFile,
    '-i', 'dev-3', '-V', 'mqttv5', '-q', '1', '-t', 'factory/dev-3/temp', '-m', 'from mosquitto_pub'], { timeout: 15_000 })
  const records = await readRecords(topic, 4)
  t.same(records.map((rec) => rec.value?.toString()).sort(), ['attribute from the intermediate', 'from mosquitto_pub', 'v3 over ipv6', 'v5 over ipv4'])
})

t.test('unknown CA, expired certificate and no credentials are refused with CONNACK reason codes', async (t) => {
  for (const [what, cert] of [['unknown CA', pki.rogue.device], ['expired', pki.device('dev-old', { expired: true })], ['no certificate', undefined]] as const) {
    await t.rejects(connectAsync(`mqtts://127.0.0.1:${port}`, { ...tlsOptions(cert), protocolVersion: 5, clientId: 'x' }), { code: 0x87 }, `${what}: v5 0x87`)
    await t.rejects(connectAsync(`mqtts://127.0.0.1:${port}`, { ...tlsOptions(cert), protocolVersion: 4, clientId: 'x' }), { code: 5 }, `${what}: 3.1.1 return code 5`)
  }
})

t.test('user name and password: right one connects, wrong one gets 0x86 / 4', async (t) => {
  const ok = await connect(t, '127.0.0.1', { ...tlsOptions(), protocolVersion: 5, clientId: 'oven', username: 'oven', password: 'hot-s3cret' })
  await ok.publishAsync('factory/oven/temp', 'password device', { qos: 1 })
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${port}`, { ...tlsOptions(), protocolVersion: 5, username: 'oven', password: 'wrong' }), { code: 0x86 })
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${port}`, { ...tlsOptions(), protocolVersion: 4, username: 'nobody', password: 'x' }), { code: 4 })
  // fridge authenticates but no rule lets it connect.
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${port}`, { ...tlsOptions(), protocolVersion: 5, username: 'fridge', password: 'cold-s3cret' }), { code: 0x87 })
})

t.test('{principal.clientId}: dev-1 may publish to factory/dev-1/# only; the refusal is 0x87, counted, and nothing reaches Kafka', async (t) => {
  const v5 = await connect(t, '127.0.0.1', { ...tlsOptions(dev1), protocolVersion: 5, clientId: 'dev-1' })
  await t.rejects(v5.publishAsync('factory/dev-2/temp', 'not mine (v5)', { qos: 1 }), { code: 0x87 })
  await t.rejects(v5.subscribeAsync('factory/dev-2/#', { qos: 1 }), /Not authorized/, 'SUBACK 0x87')
  t.equal((await v5.subscribeAsync('factory/dev-1/#', { qos: 1 }))[0]?.qos, 1, 'its own topics may be subscribed')
  const v3 = await connect(t, '127.0.0.1', { ...tlsOptions(dev1), protocolVersion: 4, clientId: 'dev-1b' })
  await v3.publishAsync('factory/dev-2/temp', 'not mine (3.1.1)', { qos: 1 })
  t.equal(v3.connected, true, '3.1.1: a PUBACK and the connection kept, as AIO answers')
  await v5.publishAsync('factory/dev-1/marker', 'after the refusals', { qos: 1 })
  const seen = await readRecords(topic, 6)
  const values = seen.map((rec) => rec.value?.toString())
  t.ok(values.includes('after the refusals'))
  t.notOk(values.some((v) => v?.startsWith('not mine')), 'refused publishes never reach Kafka')
  const metrics = await (await fetch(`${gw.admin.base}/metrics`)).text()
  t.match(metrics, /flowgate_broker_publishes_refused_total\{listener="azure-iot-operations\/devices:\d+",reason="not-authorized"\} [2-9]/)
})

t.test('live: a removed user is disconnected and a rotated server certificate is served, without a restart', async (t) => {
  const fridge = await connect(t, '127.0.0.1', { ...tlsOptions(), protocolVersion: 5, clientId: 'oven', username: 'oven', password: 'hot-s3cret' })
  const closed = new Promise<number | undefined>((resolve) => fridge.once('disconnect', (p) => resolve(p.reasonCode)))
  const before = await peerFingerprint()
  const rotated = pki.reissueServer()
  const again = await gw.admin.apply(resources({ users: await users({ fridge: 'cold-s3cret' }), serverCert: rotated }))
  t.equal(again.status, 200, JSON.stringify(again.body))
  t.equal(await closed, 0x87, 'the device whose user was removed gets DISCONNECT 0x87')
  const after = await eventually(async () => { const f = await peerFingerprint(); return f !== before ? f : undefined }, 10_000, 'the new certificate')
  t.equal(after, new X509Certificate(rotated.cert).fingerprint256, 'new connections get the rotated certificate')
  const still = await connect(t, '127.0.0.1', { ...tlsOptions(dev1), protocolVersion: 5, clientId: 'dev-1' })
  t.equal(still.connected, true, 'devices that still pass keep connecting')
})

async function peerFingerprint (): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256)
      socket.destroy()
    })
    socket.on('error', reject)
  })
}

t.test('live: a changed rule applies to connected devices — a publish it no longer allows is refused, a subscription it no longer allows ends the session with 0x87', async (t) => {
  const dev4 = pki.device('dev-4')
  const device = await connect(t, '127.0.0.1', { ...tlsOptions(dev4), protocolVersion: 5, clientId: 'dev-4' })
  await device.subscribeAsync('factory/dev-4/commands', { qos: 1 })
  await device.publishAsync('sites/north/line-4', 'allowed before the change', { qos: 1 })
  const closed = new Promise<number | undefined>((resolve) => device.once('disconnect', (p) => resolve(p.reasonCode)))
  const narrower = {
    apiVersion: BROKER_API,
    kind: 'BrokerAuthorization',
    metadata: { name: 'devices', namespace: NS },
    spec: { authorizationPolicies: { rules: [{ principals: { attributes: [{ site: 'north' }] }, brokerResources: [{ method: 'Connect' }, { method: 'Publish', topics: ['factory/{principal.clientId}/#'] }] }] } }
  }
  const applied = await gw.admin.apply(manifests(narrower))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  t.equal(await closed, 0x87, 'the subscription the new rules do not allow ends the session')
  const again = await connect(t, '127.0.0.1', { ...tlsOptions(dev4), protocolVersion: 5, clientId: 'dev-4' })
  await t.rejects(again.publishAsync('sites/north/line-4', 'refused after the change', { qos: 1 }), { code: 0x87 })
  await again.publishAsync('factory/dev-4/temp', 'still allowed', { qos: 1 })
})
