import t from 'tap'
import { readFile } from 'node:fs/promises'
import { dataflow, kafkaEndpoint, seedFixture, testAdmin } from './helpers.js'

const ns = 'azure-iot-operations'
const base = `/api/v1/namespaces/${ns}`

t.test('a fresh store holds the default MQTT endpoint and profile', async (t) => {
  const admin = await testAdmin(t)
  const endpoints = await admin.call('GET', '/api/v1/dataflowendpoints')
  t.equal(endpoints.body.kind, 'DataflowEndpointList')
  t.same(endpoints.body.items.map((r: any) => `${r.metadata.namespace}/${r.metadata.name}/${r.spec.endpointType}`), [`${ns}/default/Mqtt`, 'default/default/Mqtt'])
  const profile = await admin.call('GET', '/api/v1/namespaces/default/dataflowprofiles/default')
  t.equal(profile.body.spec.instanceCount, 1)
})

t.test('PUT creates (201) then replaces (200); reads carry defaults and a pending status', async (t) => {
  const admin = await testAdmin(t)
  const created = await admin.call('PUT', `${base}/dataflowendpoints/kafka`, kafkaEndpoint())
  t.equal(created.status, 201)
  t.equal(created.body.spec.kafkaSettings.kafkaAcks, 'All')
  t.same(created.body.status, { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'Pending' }] })
  t.equal(created.body.metadata.generation, 1)
  const replaced = await admin.call('PUT', `${base}/dataflowendpoints/kafka`, kafkaEndpoint('kafka', ns, { compression: 'gzip' }))
  t.equal(replaced.status, 200)
  t.equal(replaced.body.spec.kafkaSettings.compression, 'Gzip')
  t.equal(replaced.body.metadata.generation, 2)
  await admin.store.setStatus({ kind: 'DataflowEndpoint', namespace: ns, name: 'kafka' }, { conditions: [{ type: 'Ready', status: 'True' }] })
  const read = await admin.call('GET', `${base}/dataflowendpoints/kafka`)
  t.same(read.body.status, { conditions: [{ type: 'Ready', status: 'True' }] }, 'status written by the runtime shows')
  t.equal((await admin.call('GET', `${base}/dataflowendpoints`)).body.items.length, 2)
  t.equal((await admin.call('GET', '/api/v1/namespaces/elsewhere/dataflowendpoints')).body.items.length, 0)
})

t.test('PUT takes the seed\'s YAML as it is written', async (t) => {
  const admin = await testAdmin(t)
  const yaml = await readFile(seedFixture('seed-01-eventhubs-endpoint.yaml'), 'utf8')
  for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml']) {
    const res = await admin.call('PUT', `${base}/dataflowendpoints/eventhubs`, yaml, { 'content-type': type })
    t.ok([200, 201].includes(res.status), type)
    t.equal(res.body.spec.kafkaSettings.authentication.method, 'SystemAssignedManagedIdentity')
  }
})

t.test('an invalid resource is refused with 400 naming every path and the allowed values', async (t) => {
  const admin = await testAdmin(t)
  const res = await admin.call('PUT', `${base}/dataflowendpoints/kafka`, kafkaEndpoint('kafka', ns, { compression: 'zip', kafkaAcks: 'Maybe', colour: 'blue' }))
  t.equal(res.status, 400)
  t.equal(res.body.code, 'FG_ERR_VALIDATION')
  t.same(res.body.errors.map((e: any) => e.path).sort(), ['/spec/kafkaSettings/colour', '/spec/kafkaSettings/compression', '/spec/kafkaSettings/kafkaAcks'])
  t.same(res.body.errors.find((e: any) => e.path === '/spec/kafkaSettings/compression').allowed, ['None', 'Gzip', 'Snappy', 'Lz4'])
  t.equal((await admin.call('GET', `${base}/dataflowendpoints/kafka`)).status, 404, 'nothing stored')
  const syntax = await admin.call('PUT', `${base}/dataflowendpoints/kafka`, 'kind: DataflowEndpoint\nspec: [\n')
  t.equal(syntax.status, 400)
  t.equal(syntax.body.code, 'FG_ERR_MANIFEST_SYNTAX')
  const mismatch = await admin.call('PUT', `${base}/dataflowendpoints/other`, kafkaEndpoint())
  t.equal(mismatch.status, 400)
  t.same(mismatch.body.errors.map((e: any) => e.path), ['/metadata/name'])
})

t.test('a dataflow naming a missing endpoint, or its missing secret, is refused with 422', async (t) => {
  const admin = await testAdmin(t)
  const dangling = await admin.call('PUT', `${base}/dataflows/df`, dataflow('df', ns, 'default', 'kafka'))
  t.equal(dangling.status, 422)
  t.equal(dangling.body.code, 'FG_ERR_DANGLING_REFERENCE')
  t.same(dangling.body.references, ['dataflowendpoint/kafka'])
  t.match(dangling.body.message, /dataflowendpoint\/kafka/)
  // Endpoints may be stored before their secrets (as in Kubernetes); the dataflow resolves the whole chain.
  const sasl = { authentication: { method: 'Sasl', saslSettings: { saslType: 'Plain', secretRef: 'cs-secret' } } }
  t.equal((await admin.call('PUT', `${base}/dataflowendpoints/kafka`, kafkaEndpoint('kafka', ns, sasl))).status, 201)
  const secretMissing = await admin.call('PUT', `${base}/dataflows/df`, dataflow('df', ns, 'default', 'kafka'))
  t.equal(secretMissing.status, 422)
  t.same(secretMissing.body.references, ['secret/cs-secret'])
  await admin.call('PUT', `${base}/secrets/cs-secret`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cs-secret', namespace: ns }, stringData: { username: '$ConnectionString', password: 'x' } })
  t.equal((await admin.call('PUT', `${base}/dataflows/df`, dataflow('df', ns, 'default', 'kafka'))).status, 201)
  const kafkaToKafka = await admin.call('PUT', `${base}/dataflows/df2`, dataflow('df2', ns, 'kafka', 'kafka'))
  t.equal(kafkaToKafka.status, 422)
  t.equal(kafkaToKafka.body.code, 'FG_ERR_REFERENCE_MISMATCH')
})

t.test('a stale resourceVersion is refused with 409', async (t) => {
  const admin = await testAdmin(t)
  const first = await admin.call('PUT', `${base}/dataflowendpoints/kafka`, kafkaEndpoint())
  const v1 = first.body.metadata.resourceVersion
  const withVersion = (v: string, settings = {}): any => {
    const doc: any = kafkaEndpoint('kafka', ns, settings)
    doc.metadata.resourceVersion = v
    return doc
  }
  t.equal((await admin.call('PUT', `${base}/dataflowendpoints/kafka`, withVersion(v1, { compression: 'Gzip' }))).status, 200)
  const stale = await admin.call('PUT', `${base}/dataflowendpoints/kafka`, withVersion(v1, { compression: 'Lz4' }))
  t.equal(stale.status, 409)
  t.equal(stale.body.code, 'FG_ERR_CONFLICT')
  t.equal((await admin.call('GET', `${base}/dataflowendpoints/kafka`)).body.spec.kafkaSettings.compression, 'Gzip')
})

t.test('deleting what a dataflow or endpoint still names is refused with 409', async (t) => {
  const admin = await testAdmin(t)
  await admin.call('PUT', `${base}/configmaps/ca`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca', namespace: ns }, data: { 'ca.crt': 'PEM' } })
  await admin.call('PUT', `${base}/dataflowendpoints/kafka`, kafkaEndpoint('kafka', ns, { tls: { mode: 'Enabled', trustedCaCertificateConfigMapRef: 'ca' } }))
  await admin.call('PUT', `${base}/dataflows/df`, dataflow('df', ns, 'default', 'kafka'))
  const endpoint = await admin.call('DELETE', `${base}/dataflowendpoints/kafka`)
  t.equal(endpoint.status, 409)
  t.equal(endpoint.body.code, 'FG_ERR_REFERENCED')
  t.same(endpoint.body.referrers, ['dataflow/df'])
  t.same((await admin.call('DELETE', `${base}/configmaps/ca`)).body.referrers, ['dataflowendpoint/kafka'])
  t.equal((await admin.call('DELETE', `${base}/dataflows/df`)).status, 200)
  t.equal((await admin.call('DELETE', `${base}/dataflowendpoints/kafka`)).status, 200)
  t.equal((await admin.call('DELETE', `${base}/configmaps/ca`)).status, 200)
  t.equal((await admin.call('DELETE', `${base}/configmaps/ca`)).status, 404)
})

t.test('PUT …/status writes a runtime\'s status: whole, or one writer\'s part merged with the others', async (t) => {
  const admin = await testAdmin(t)
  await admin.call('PUT', `${base}/dataflowendpoints/kafka`, kafkaEndpoint())
  await admin.call('PUT', `${base}/dataflows/flow`, dataflow('flow', ns, 'default', 'kafka'))
  const ready = (sent: number): Record<string, unknown> => ({ conditions: [{ type: 'Ready', status: 'True', reason: 'Running', lastTransitionTime: '2026-12-06T00:00:00.000Z' }], counters: { received: sent, sent, dropped: {}, buffered: 0 } })

  const whole = await admin.call('PUT', `${base}/dataflows/flow/status`, ready(3))
  t.equal(whole.status, 200)
  t.equal(whole.body.status.counters.sent, 3, 'the answer is the resource with its new status')
  t.equal((await admin.call('GET', `${base}/dataflows/flow`)).body.status.counters.sent, 3)

  // Two egress replicas, each its part: a read sums them.
  t.equal((await admin.call('PUT', `${base}/dataflows/flow/status?writer=egress-0`, ready(5))).status, 200)
  t.equal((await admin.call('PUT', `${base}/dataflows/flow/status?writer=egress-1`, ready(7))).status, 200)
  t.equal((await admin.call('GET', `${base}/dataflows/flow`)).body.status.counters.sent, 12)
  t.equal((await admin.call('GET', `${base}/dataflows/flow`)).body.metadata.generation, 1, 'a status write is not a change of the resource')

  const missing = await admin.call('PUT', `${base}/dataflows/nope/status`, ready(1))
  t.equal(missing.status, 404)
  t.equal(missing.body.code, 'FG_ERR_NOT_FOUND')
  const profile = await admin.call('PUT', '/api/v1/namespaces/default/dataflowprofiles/default/status', ready(1))
  t.equal(profile.status, 400)
  t.match(profile.body.message, /dataflowprofiles carry no status/)
  const scalar = await admin.call('PUT', `${base}/dataflows/flow/status`, 'just text')
  t.equal(scalar.status, 400)
  t.match(scalar.body.message, /one status object/)
  const writer = await admin.call('PUT', `${base}/dataflows/flow/status?writer=${encodeURIComponent('a b')}`, ready(1))
  t.equal(writer.status, 400)
  t.match(writer.body.message, /writer must be/)
  const anonymous = await fetch(`${admin.url}${base}/dataflows/flow/status`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ready(9)) })
  t.equal(anonymous.status, 401, 'the token is needed, as everywhere under /api/v1')
  t.equal((await admin.call('GET', `${base}/dataflows/flow`)).body.status.counters.sent, 12, 'refused writes change nothing')
})
