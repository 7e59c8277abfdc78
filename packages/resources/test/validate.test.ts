import t, { type Test } from 'tap'
import { validate } from '../src/validate.js'
import type { ValidationError } from '../src/types.js'

const endpoint = (kafkaSettings: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name: 'kafka', namespace: 'ns1' },
  spec: { endpointType: 'Kafka', kafkaSettings: { host: 'localhost:9092', ...kafkaSettings } },
  ...extra
})

const dataflow = (operations: unknown[]): Record<string, unknown> => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'Dataflow',
  metadata: { name: 'df' },
  spec: { operations }
})

function errorsOf (doc: unknown): ValidationError[] {
  const r = validate(doc)
  return r.ok ? [] : r.errors
}

function stored (t: Test, doc: unknown): any {
  const r = validate(doc)
  if (!r.ok) t.fail(JSON.stringify(r.errors))
  return r.ok ? r.resource : undefined
}

t.test('enum values match case-insensitively and are stored in the seed\'s spelling', async (t) => {
  const ok = stored(t, {
    ...endpoint({
      compression: 'gzip',
      kafkaAcks: 'ALL',
      partitionStrategy: 'topic',
      copyMqttProperties: 'disabled',
      cloudEventAttributes: 'createorremap',
      authentication: { method: 'sasl', saslSettings: { saslType: 'scramsha512', secretRef: 's' } },
      tls: { mode: 'disabled' }
    }),
    kind: 'dataflowendpoint'
  })
  const k = ok.spec.kafkaSettings
  t.equal(ok.kind, 'DataflowEndpoint')
  t.same([k.compression, k.kafkaAcks, k.partitionStrategy, k.copyMqttProperties, k.cloudEventAttributes, k.tls.mode],
    ['Gzip', 'All', 'Topic', 'Disabled', 'CreateOrRemap', 'Disabled'])
  t.same(k.authentication, { method: 'Sasl', saslSettings: { saslType: 'ScramSha512', secretRef: 's' } })
  const df = stored(t, dataflow([
    { operationType: 'source', sourceSettings: { endpointRef: 'default', dataSources: ['a/#'] } },
    { operationType: 'DESTINATION', destinationSettings: { endpointRef: 'kafka', dataDestination: 'a' } }
  ]))
  t.same(df.spec.operations.map((o: any) => o.operationType), ['Source', 'Destination'])
})

t.test('defaults of the seed are applied', async (t) => {
  const k = stored(t, endpoint({})).spec.kafkaSettings
  t.same(k, {
    host: 'localhost:9092',
    authentication: { method: 'Anonymous', anonymousSettings: {} },
    tls: { mode: 'Enabled' },
    compression: 'None',
    batching: { mode: 'Enabled', latencyMs: 5, maxMessages: 100000, maxBytes: 1000000 },
    partitionStrategy: 'Default',
    kafkaAcks: 'All',
    copyMqttProperties: 'Enabled',
    cloudEventAttributes: 'Propagate'
  })
  const mqtt = stored(t, { ...endpoint({}), spec: { endpointType: 'Mqtt', mqttSettings: { host: 'broker:8883' } } }).spec.mqttSettings
  t.match(mqtt, { protocol: 'Mqtt', qos: 1, retain: 'Keep', keepAliveSeconds: 60, sessionExpirySeconds: 3600, maxInflightMessages: 100, tls: { mode: 'Enabled' } })
  const profile = stored(t, { apiVersion: 'connectivity.iotoperations.azure.com/v1', kind: 'DataflowProfile', metadata: { name: 'p' } })
  t.same(profile.spec, { instanceCount: 1 })
  t.equal(profile.metadata.namespace, 'default')
  t.equal(profile.apiVersion, 'connectivity.iotoperations.azure.com/v1', 'the given apiVersion is stored')
  const df = stored(t, dataflow([
    { operationType: 'Source', sourceSettings: { endpointRef: 'default', dataSources: ['a/#'] } },
    { operationType: 'Destination', destinationSettings: { endpointRef: 'kafka' } }
  ]))
  t.equal(df.spec.profileRef, 'default')
  t.equal(df.spec.mode, 'Enabled')
})

t.test('every invalid path is reported, enums with their allowed values', async (t) => {
  const errors = errorsOf({
    apiVersion: 'connectivity.iotoperations.azure.com/v2',
    kind: 'DataflowEndpoint',
    metadata: { name: 'Bad_Name', extra: 1 },
    spec: {
      endpointType: 'Kafka',
      kafkaSettings: {
        compression: 'zip',
        kafkaAcks: 2,
        batching: { latencyMs: 'soon', maxBytes: 0 },
        partitionStrategy: 'Property',
        authentication: { method: 'Sasl', saslSettings: { saslType: 'Kerberos' }, x509CertificateSettings: { secretRef: 'x' } },
        tls: { mode: 'On', trusted: true },
        bogus: true
      }
    }
  })
  const byPath = Object.fromEntries(errors.map((e) => [e.path, e]))
  t.same(Object.keys(byPath).sort(), [
    '/apiVersion',
    '/metadata/extra',
    '/metadata/name',
    '/spec/kafkaSettings/authentication/saslSettings/saslType',
    '/spec/kafkaSettings/authentication/saslSettings/secretRef',
    '/spec/kafkaSettings/authentication/x509CertificateSettings',
    '/spec/kafkaSettings/batching/latencyMs',
    '/spec/kafkaSettings/batching/maxBytes',
    '/spec/kafkaSettings/bogus',
    '/spec/kafkaSettings/compression',
    '/spec/kafkaSettings/host',
    '/spec/kafkaSettings/kafkaAcks',
    '/spec/kafkaSettings/partitionKeyProperty',
    '/spec/kafkaSettings/tls/mode',
    '/spec/kafkaSettings/tls/trusted'
  ].sort())
  t.same(byPath['/spec/kafkaSettings/compression']!.allowed, ['None', 'Gzip', 'Snappy', 'Lz4'])
  t.same(byPath['/spec/kafkaSettings/kafkaAcks']!.allowed, ['Zero', 'One', 'All', 'None'])
  t.same(byPath['/spec/kafkaSettings/authentication/saslSettings/saslType']!.allowed, ['Plain', 'ScramSha256', 'ScramSha512'])
  t.same(byPath['/spec/kafkaSettings/tls/mode']!.allowed, ['Enabled', 'Disabled'])
  t.equal(byPath['/spec/kafkaSettings/bogus']!.message, 'unknown field')
  t.ok(byPath['/spec/kafkaSettings/bogus']!.allowed?.includes('compression'), 'an unknown field lists the known ones')
})

t.test('settings of another method or endpoint type are refused', async (t) => {
  const errors = errorsOf({ ...endpoint({ authentication: { method: 'Anonymous', saslSettings: { saslType: 'Plain', secretRef: 's' } } }), spec: { endpointType: 'Kafka', kafkaSettings: { host: 'h' }, mqttSettings: { host: 'm' } } })
  t.same(errors.map((e) => e.path), ['/spec/mqttSettings'])
  const auth = errorsOf(endpoint({ authentication: { method: 'Anonymous', saslSettings: { saslType: 'Plain', secretRef: 's' } } }))
  t.same(auth.map((e) => e.path), ['/spec/kafkaSettings/authentication/saslSettings'])
  const type = errorsOf({ ...endpoint({}), spec: { endpointType: 'DataExplorer' } })
  t.same(type.map((e) => [e.path, e.allowed]), [['/spec/endpointType', ['Kafka', 'Mqtt']]])
})

t.test('batching takes the seed\'s `enabled` boolean or `mode`, not both contradicting', async (t) => {
  t.same(stored(t, endpoint({ batching: { enabled: false } })).spec.kafkaSettings.batching.mode, 'Disabled')
  t.same(stored(t, endpoint({ batching: { enabled: true, mode: 'enabled' } })).spec.kafkaSettings.batching.mode, 'Enabled')
  t.same(errorsOf(endpoint({ batching: { enabled: true, mode: 'Disabled' } })).map((e) => e.path), ['/spec/kafkaSettings/batching/enabled'])
})

t.test('kafkaAcks None is accepted as the preview alias of Zero', async (t) => {
  t.equal(stored(t, endpoint({ kafkaAcks: 'none' })).spec.kafkaSettings.kafkaAcks, 'None')
})

t.test('a dataflow needs exactly one Source and one Destination', async (t) => {
  const src = { operationType: 'Source', sourceSettings: { endpointRef: 'default', dataSources: ['#'] } }
  const dst = { operationType: 'Destination', destinationSettings: { endpointRef: 'kafka' } }
  t.same(errorsOf(dataflow([src, src])).map((e) => e.path), ['/spec/operations'])
  t.match(errorsOf(dataflow([src, src, dst]))[0]!.message, /exactly one Source/)
  t.same(errorsOf(dataflow([{ operationType: 'Source', destinationSettings: { endpointRef: 'x' } }, dst])).map((e) => e.path).sort(),
    ['/spec/operations/0/destinationSettings', '/spec/operations/0/sourceSettings'])
  t.same(errorsOf(dataflow([{ ...src, sourceSettings: { endpointRef: 'default', dataSources: [] } }, dst])).map((e) => e.path), ['/spec/operations/0/sourceSettings/dataSources'])
})

t.test('unknown kinds and non-objects are refused with the allowed kinds', async (t) => {
  const [e] = errorsOf({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } })
  t.equal(e!.path, '/kind')
  t.same(e!.allowed, ['Secret', 'ConfigMap', 'DataflowProfile', 'DataflowEndpoint', 'Dataflow', 'BrokerAuthentication', 'BrokerAuthorization', 'BrokerListener'])
  t.equal(errorsOf('text')[0]!.path, '')
})

t.test('secrets: stringData becomes base64 data; a TLS secret needs tls.crt and tls.key', async (t) => {
  const s = stored(t, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { username: 'dXNlcg==' }, stringData: { password: 'pässword' } })
  t.same(s.data, { username: 'dXNlcg==', password: Buffer.from('pässword').toString('base64') })
  t.equal(s.type, 'Opaque')
  t.notOk('stringData' in s)
  t.same(errorsOf({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'QQ==' } }).map((e) => e.path), ['/data/tls.key'])
  t.same(errorsOf({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { 'bad key': 'QQ==', ok: 'not base64!' } }).map((e) => e.path).sort(), ['/data/bad key', '/data/ok'])
})

t.test('a status in the input is dropped: observed state is the runtime\'s', async (t) => {
  const r = stored(t, { ...endpoint({}), status: { conditions: [] } })
  t.notOk('status' in r)
})

t.test('AIO broker kinds: a listener from AIO\'s docs applies as written; bad fields are named by path', async (t) => {
  const listener = stored(t, {
    apiVersion: 'mqttbroker.iotoperations.azure.com/v1',
    kind: 'BrokerListener',
    metadata: { name: 'loadbalancer-listener', namespace: 'azure-iot-operations' },
    spec: {
      brokerRef: 'default',
      serviceType: 'LoadBalancer',
      ports: [
        { port: 1883, protocol: 'Mqtt' },
        { port: 8883, authenticationRef: 'default', protocol: 'Mqtt', tls: { mode: 'Automatic', certManagerCertificateSpec: { issuerRef: { name: 'azure-iot-operations-aio-certificate-issuer', kind: 'ClusterIssuer', group: 'cert-manager.io' } } } }
      ]
    }
  })
  t.equal(listener.spec.ports[0].protocol, 'Mqtt')
  const errors = errorsOf({
    apiVersion: 'mqttbroker.iotoperations.azure.com/v1',
    kind: 'BrokerListener',
    metadata: { name: 'l' },
    spec: { ports: [{ port: 70000, protocol: 'Quic', tls: { mode: 'Manual' } }] }
  })
  t.same(errors.map((e) => e.path).sort(), ['/spec/ports/0/port', '/spec/ports/0/protocol', '/spec/ports/0/tls/manual'])
  const authn = errorsOf({
    apiVersion: 'mqttbroker.iotoperations.azure.com/v1',
    kind: 'BrokerAuthentication',
    metadata: { name: 'a' },
    spec: { authenticationMethods: [{ method: 'X509', serviceAccountTokenSettings: { audiences: ['x'] } }] }
  })
  t.same(authn.map((e) => e.path).sort(), ['/spec/authenticationMethods/0/serviceAccountTokenSettings', '/spec/authenticationMethods/0/x509Settings'])
})

t.test('BrokerAuthorization topics: tokens fill whole levels, wildcards are whole levels; each bad one named by path', async (t) => {
  const errors = errorsOf({
    apiVersion: 'mqttbroker.iotoperations.azure.com/v1',
    kind: 'BrokerAuthorization',
    metadata: { name: 'z' },
    spec: { authorizationPolicies: { rules: [{ principals: { usernames: ['a'] }, brokerResources: [{ method: 'Publish', topics: ['ok/{principal.clientId}/#', 'x/dev-{principal.clientId}', 'a/#/b', 'a/b+'] }] }] } }
  })
  t.same(errors.map((e) => e.path), [1, 2, 3].map((i) => `/spec/authorizationPolicies/rules/0/brokerResources/0/topics/${i}`))
  t.match(errors[0]!.message, /whole topic level/)
})
