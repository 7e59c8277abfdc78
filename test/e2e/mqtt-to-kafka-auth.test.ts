import t from 'tap'
import { readFileSync } from 'node:fs'
import { connectAsync } from 'mqtt'
import { startGateway } from '@flowgate/gateway'
import { rig, createTopic, readRecords, uniqueTopic, startTestGateway, eventually, tokenServer } from '@flowgate/testkit'

// Every authentication method of the seed page, through the whole chain: resources applied through the admin API,
// secrets sealed in the store and opened by the runtime, kafkajs configured from them, a device's publish landing in
// the real broker on the listener of that security mode. Managed identity asks a token endpoint served here on
// loopback (App Service form: IDENTITY_ENDPOINT + IDENTITY_HEADER), and the broker checks the JWT against its JWKS.

const r = await rig()
const b64 = (s: string): string => Buffer.from(s).toString('base64')
const indent = (s: string, n: number): string => s.split('\n').map((l) => ' '.repeat(n) + l).join('\n')

const tokens = await tokenServer(r)
t.teardown(() => tokens.close())
process.env.IDENTITY_ENDPOINT = tokens.url
process.env.IDENTITY_HEADER = tokens.header

const cases: Array<{ name: string, host: string, auth: string, tls: string, extra?: string }> = [
  { name: 'anonymous', host: r.listeners.plaintext, auth: 'method: Anonymous\nanonymousSettings: {}', tls: 'mode: Disabled' },
  { name: 'sasl-plain', host: r.listeners.saslPlaintext, auth: 'method: Sasl\nsaslSettings:\n  saslType: Plain\n  secretRef: plain-secret', tls: 'mode: Disabled' },
  { name: 'scram-512', host: r.listeners.saslPlaintext, auth: 'method: Sasl\nsaslSettings:\n  saslType: ScramSha512\n  secretRef: scram-secret', tls: 'mode: Disabled' },
  { name: 'x509', host: r.listeners.ssl, auth: 'method: X509Certificate\nx509CertificateSettings:\n  secretRef: client-tls', tls: 'mode: Enabled\ntrustedCaCertificateConfigMapRef: client-ca-configmap' },
  { name: 'eventhubs', host: r.listeners.saslSsl, auth: 'method: Sasl\nsaslSettings:\n  saslType: Plain\n  secretRef: cs-secret', tls: 'mode: Enabled\ntrustedCaCertificateConfigMapRef: client-ca-configmap' },
  { name: 'system-mi', host: r.listeners.oauthbearer, auth: `method: SystemAssignedManagedIdentity\nsystemAssignedManagedIdentitySettings:\n  audience: ${r.oauth.audience}`, tls: 'mode: Disabled' },
  { name: 'user-mi', host: r.listeners.oauthbearer, auth: `method: UserAssignedManagedIdentity\nuserAssignedManagedIdentitySettings:\n  clientId: 00000000-0000-0000-0000-00000000c11d\n  tenantId: 00000000-0000-0000-0000-0000000000aa\n  scope: ${r.oauth.audience}/.default`, tls: 'mode: Disabled' }
]

const secrets = `
apiVersion: v1
kind: Secret
metadata: { name: plain-secret, namespace: azure-iot-operations }
stringData: { username: ${r.users.plain.username}, password: ${r.users.plain.password} }
---
apiVersion: v1
kind: Secret
metadata: { name: scram-secret, namespace: azure-iot-operations }
stringData: { username: ${r.users['scram-sha-512'].username}, password: ${r.users['scram-sha-512'].password} }
---
apiVersion: v1
kind: Secret
metadata: { name: cs-secret, namespace: azure-iot-operations }
data: { username: ${b64(r.users.eventhubs.username)}, password: ${b64(r.users.eventhubs.password)} }
---
apiVersion: v1
kind: Secret
metadata: { name: client-tls, namespace: azure-iot-operations }
type: kubernetes.io/tls
data:
  tls.crt: ${b64(readFileSync(r.tls.clientChain, 'utf8'))}
  tls.key: ${b64(readFileSync(r.tls.clientKey, 'utf8'))}
---
apiVersion: v1
kind: ConfigMap
metadata: { name: client-ca-configmap, namespace: azure-iot-operations }
data:
  root_ca.crt: |
${indent(readFileSync(r.tls.ca, 'utf8').trim(), 4)}
`

t.test('each authentication method of the seed moves a device\'s message into Kafka', async (t) => {
  const gw = await startTestGateway(t, startGateway)
  const topics = Object.fromEntries(cases.map((c) => [c.name, uniqueTopic(`auth-${c.name}`)]))
  for (const topic of Object.values(topics)) await createTopic(topic, 1)
  const docs = cases.map((c) => `
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata: { name: kafka-${c.name}, namespace: azure-iot-operations }
spec:
  endpointType: Kafka
  kafkaSettings:
    host: ${c.host}
    authentication:
${indent(c.auth, 6)}
    tls:
${indent(c.tls, 6)}
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: Dataflow
metadata: { name: to-${c.name}, namespace: azure-iot-operations }
spec:
  profileRef: default
  operations:
    - operationType: Source
      sourceSettings: { endpointRef: default, dataSources: [ 'auth/${c.name}/#' ] }
    - operationType: Destination
      destinationSettings: { endpointRef: kafka-${c.name}, dataDestination: ${topics[c.name]} }`)
  const applied = await gw.admin.apply([secrets, ...docs].join('\n---\n'))
  t.equal(applied.status, 200, applied.status === 200 ? 'applied' : JSON.stringify(applied.body).slice(0, 2000))

  const device = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => device.endAsync())
  for (const c of cases) {
    await eventually(async () => {
      const { body } = await gw.admin.get(`/api/v1/namespaces/azure-iot-operations/dataflows/to-${c.name}`)
      return body.status?.conditions?.find((x: { type: string }) => x.type === 'Ready')?.status === 'True' ? true : undefined
    }, 20_000, `dataflow to-${c.name} Ready`)
    await device.publishAsync(`auth/${c.name}/reading`, `via ${c.name}`, { qos: 1 })
    const [record] = await readRecords(topics[c.name]!, 1)
    t.equal(record?.value?.toString(), `via ${c.name}`, `${c.name}: acknowledged by the device, then read from Kafka`)
  }
  t.ok(tokens.requests.some((q) => q.clientId === null), 'system-assigned identity asked the loopback token endpoint')
  t.ok(tokens.requests.some((q) => q.clientId === '00000000-0000-0000-0000-00000000c11d'), 'user-assigned identity asked with its client id')
})

t.test("the seed's Event Hubs endpoint (namespace host :9093 form, $ConnectionString, TLS) works with the name mapped to loopback", async (t) => {
  // Never resolved: the gateway answers this name from its alias table (127.0.0.1) before any DNS fallback
  // (packages/kafka/test/socket-factory.test.ts proves it); TLS still verifies the name against the rig's certificate.
  const namespaceHost = 'flowgate-test.servicebus.windows.net'
  const port = r.listeners.saslSsl.split(':')[1]
  const gw = await startTestGateway(t, startGateway, { kafkaHostAliases: { [namespaceHost]: '127.0.0.1' } })
  const topic = uniqueTopic('eventhub')
  await createTopic(topic, 1)
  const applied = await gw.admin.apply(`${secrets}
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata:
  name: eventhubs
  namespace: azure-iot-operations
spec:
  endpointType: Kafka
  kafkaSettings:
    host: ${namespaceHost}:${port}
    authentication:
      method: Sasl
      saslSettings:
        saslType: Plain
        secretRef: cs-secret
    tls:
      mode: Enabled
      trustedCaCertificateConfigMapRef: client-ca-configmap
    consumerGroupId: mqConnector
    compression: Gzip
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: Dataflow
metadata: { name: to-eventhubs, namespace: azure-iot-operations }
spec:
  profileRef: default
  operations:
    - operationType: Source
      sourceSettings: { endpointRef: default, dataSources: [ 'plant/#' ] }
    - operationType: Destination
      destinationSettings: { endpointRef: eventhubs, dataDestination: ${topic} }`)
  t.equal(applied.status, 200, applied.status === 200 ? 'applied' : JSON.stringify(applied.body).slice(0, 2000))
  await eventually(async () => (await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/to-eventhubs')).body.status?.conditions?.[0]?.status === 'True' ? true : undefined)
  const device = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => device.endAsync())
  await device.publishAsync('plant/line1', 'to the event hub', { qos: 1 })
  const [record] = await readRecords(topic, 1)
  t.equal(record?.value?.toString(), 'to the event hub')

  const snappy = await gw.admin.apply(`apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata: { name: eventhubs-snappy, namespace: azure-iot-operations }
spec:
  endpointType: Kafka
  kafkaSettings: { host: '${namespaceHost}:${port}', compression: Snappy }`)
  t.equal(snappy.status, 400, 'Snappy toward an Event Hubs host is refused')
  t.match(JSON.stringify(snappy.body), /accepts only Gzip/)
})
