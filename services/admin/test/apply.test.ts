import t from 'tap'
import { seedExample } from '@flowgate/testkit'
import { readFile } from 'node:fs/promises'
import { seedFixture, testAdmin } from './helpers.js'

const ns = 'azure-iot-operations'
const mq = `apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata:
  name: mq
  namespace: ${ns}
spec:
  endpointType: Mqtt
  mqttSettings:
    host: localhost:1883
    tls:
      mode: Disabled
`
const secret = `apiVersion: v1
kind: Secret
metadata:
  name: sasl
  namespace: ${ns}
stringData:
  username: user
  password: pass
`

async function seedManifest (): Promise<string> {
  const read = async (f: string): Promise<string> => await readFile(seedFixture(f), 'utf8')
  // The seed's Dataflow first: apply orders by dependency, not by position. The Secret the Kafka endpoint names
  // (its filled-in placeholder) is the one this manifest carries.
  const kafka = (await read('seed-03-kafka-endpoint.yaml')).replace('your-token-secret-name', 'sasl')
  return [await read('seed-04-dataflow.yaml'), mq, kafka, await read('seed-01-eventhubs-endpoint.yaml'), secret].join('\n---\n')
}

t.test('apply stores a multi-document manifest in dependency order with a result each', async (t) => {
  const admin = await testAdmin(t)
  const res = await admin.call('POST', '/api/v1/apply', await seedManifest())
  t.equal(res.status, 200, JSON.stringify(res.body))
  t.same(res.body.results.map((r: any) => `${r.kind}/${r.name} ${r.result}`), [
    'Secret/sasl created',
    'DataflowEndpoint/mq created',
    'DataflowEndpoint/kafka created',
    'DataflowEndpoint/eventhubs created',
    'Dataflow/my-dataflow created'
  ])
  const again = await admin.call('POST', '/api/v1/apply', await seedManifest())
  t.same(again.body.results.map((r: any) => r.result), ['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged'])
  const changed = (await seedManifest()).replace('consumerGroupId: mqConnector', 'consumerGroupId: other')
  t.same((await admin.call('POST', '/api/v1/apply', changed)).body.results.map((r: any) => r.result), ['unchanged', 'unchanged', 'configured', 'unchanged', 'unchanged'])
  const flow = await admin.call('GET', `/api/v1/namespaces/${ns}/dataflows/my-dataflow`)
  t.same(flow.body.spec.operations[0].sourceSettings.dataSources, ['*'])
})

t.test('apply is all or nothing: one bad document stores nothing, and every error names its document', async (t) => {
  const admin = await testAdmin(t)
  const bad = (await seedManifest()).replace('saslType: ScramSha256', 'saslType: Kerberos').replace('mode: Disabled', 'mode: Off')
  const res = await admin.call('POST', '/api/v1/apply', bad)
  t.equal(res.status, 400)
  t.equal(res.body.code, 'FG_ERR_VALIDATION')
  const lineOf = (text: string): number => bad.split('\n').findIndex((l) => l.includes(text)) + 1
  t.same(res.body.errors.map((e: any) => [e.path, e.resource, e.line]), [
    ['/1/spec/mqttSettings/tls/mode', 'dataflowendpoint/mq', lineOf('mode: Off')],
    ['/2/spec/kafkaSettings/authentication/saslSettings/saslType', 'dataflowendpoint/kafka', lineOf('saslType: Kerberos')]
  ], 'lines count from the top of the whole request')
  t.same(res.body.errors[1].allowed, ['Plain', 'ScramSha256', 'ScramSha512'])
  t.equal((await admin.call('GET', '/api/v1/dataflowendpoints')).body.items.length, 2, 'only the built-ins')
})

t.test('the seed\'s endpoints as written are refused naming each placeholder; filled in, they apply', async (t) => {
  const admin = await testAdmin(t)
  const raw = async (f: string): Promise<string> => await readFile(seedExample(f, { filled: false }), 'utf8')
  const asWritten = await admin.call('POST', '/api/v1/apply', [await raw('seed-01-eventhubs-endpoint.yaml'), await raw('seed-03-kafka-endpoint.yaml')].join('\n---\n'))
  t.equal(asWritten.status, 400)
  const said = JSON.stringify(asWritten.body)
  for (const placeholder of ['<HOST>', '<KAFKA-HOST>', '<PORT>', '<YOUR-TOKEN-SECRET-NAME>']) t.match(said, placeholder, `names ${placeholder}`)
  const read = async (f: string): Promise<string> => await readFile(seedFixture(f), 'utf8')
  const res = await admin.call('POST', '/api/v1/apply', [await read('seed-01-eventhubs-endpoint.yaml'), await read('seed-03-kafka-endpoint.yaml')].join('\n---\n'))
  t.equal(res.status, 200)
  t.same(res.body.results.map((r: any) => r.result), ['created', 'created'])
})

t.test('apply resolves references within the request and refuses dangling ones with 422', async (t) => {
  const admin = await testAdmin(t)
  const manifest = await seedManifest()
  const withoutMq = manifest.replace(mq, '')
  const res = await admin.call('POST', '/api/v1/apply', withoutMq)
  t.equal(res.status, 422)
  t.equal(res.body.code, 'FG_ERR_DANGLING_REFERENCE')
  t.same(res.body.references, ['dataflowendpoint/mq'])
  t.equal((await admin.call('GET', '/api/v1/dataflowendpoints')).body.items.length, 2, 'nothing stored')
})

t.test('apply takes JSON lists and kind: List, and secrets are sealed on the way in', async (t) => {
  const admin = await testAdmin(t)
  const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: ns }, stringData: { password: 'hunter2-plaintext' } }] }
  const res = await admin.call('POST', '/api/v1/apply', list)
  t.same(res.body.results.map((r: any) => r.result), ['created'])
  t.same((await admin.call('POST', '/api/v1/apply', [list.items[0]])).body.results.map((r: any) => r.result), ['unchanged'], 'unchanged compares opened values')
  t.notMatch(await admin.dump(), 'hunter2-plaintext')
  t.notMatch(await admin.dump(), Buffer.from('hunter2-plaintext').toString('base64'))
  t.same((await admin.call('POST', '/api/v1/apply', secret)).body.results.map((r: any) => r.result), ['created'])
})

t.test('the same resource twice in one request is refused', async (t) => {
  const admin = await testAdmin(t)
  const res = await admin.call('POST', '/api/v1/apply', `${mq}---\n${mq}`)
  t.equal(res.status, 400)
  t.same(res.body.errors.map((e: any) => e.path), ['/1/metadata/name'])
})
