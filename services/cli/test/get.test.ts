import t from 'tap'
import { parse } from 'yaml'
import { cliRig, seedFixture } from './helpers.js'

t.test('get prints a kubectl-like table with type, host and status', async (t) => {
  const { flowgate } = await cliRig(t)
  t.equal((await flowgate(['apply', '-f', seedFixture('seed-03-kafka-endpoint.yaml')])).code, 0)
  const run = await flowgate(['get', 'dataflowendpoints'])
  t.equal(run.code, 0, run.stderr)
  const [header, ...rows] = run.stdout.trim().split('\n')
  t.same(header!.split(/\s+/), ['NAMESPACE', 'NAME', 'TYPE', 'HOST', 'AUTH', 'STATUS', 'AGE'])
  t.same(rows.map((r) => r.split(/\s+/).slice(0, 6)), [
    ['azure-iot-operations', 'default', 'Mqtt', 'localhost:1883', 'Anonymous', 'Pending'],
    ['azure-iot-operations', 'kafka', 'Kafka', 'kafka-host:9093', 'Sasl', 'Pending'],
    ['default', 'default', 'Mqtt', 'localhost:1883', 'Anonymous', 'Pending']
  ])
  for (const kind of ['dataflowendpoint', 'DataflowEndpoint', 'dfe', 'endpoints']) {
    t.equal((await flowgate(['get', kind, '-n', 'default'])).stdout.trim().split('\n').length, 2, `${kind} names the same kind`)
  }
})

t.test('get NAME -o yaml prints the stored resource with defaults and status', async (t) => {
  const { flowgate } = await cliRig(t)
  await flowgate(['apply', '-f', seedFixture('seed-03-kafka-endpoint.yaml')])
  const run = await flowgate(['get', 'dataflowendpoint', 'kafka', '-n', 'azure-iot-operations', '-o', 'yaml'])
  t.equal(run.code, 0, run.stderr)
  const doc = parse(run.stdout)
  t.match(doc, { kind: 'DataflowEndpoint', metadata: { name: 'kafka', namespace: 'azure-iot-operations' }, spec: { kafkaSettings: { kafkaAcks: 'All', compression: 'None' } }, status: { conditions: [{ type: 'Ready' }] } })
  const json = JSON.parse((await flowgate(['get', 'dataflowendpoint', 'kafka', '-o', 'json'])).stdout)
  t.equal(json.metadata.name, 'kafka', 'a name without -n is found in its namespace')
  // What get -o yaml prints applies again unchanged.
  const again = await flowgate(['apply', '-f', '-'], { stdin: run.stdout })
  t.equal(again.stdout, 'dataflowendpoint/kafka unchanged\n', again.stderr)
})

t.test('get of something missing is one line and exit 1', async (t) => {
  const { flowgate } = await cliRig(t)
  const run = await flowgate(['get', 'dataflow', 'nope', '-n', 'default'])
  t.equal(run.code, 1)
  t.match(run.stderr, /^flowgate: dataflow\/nope not found in namespace default \[FG_ERR_NOT_FOUND\]\n$/)
  const kind = await flowgate(['get', 'pods'])
  t.equal(kind.code, 1)
  t.match(kind.stderr, /unknown kind "pods"/)
})

t.test('delete removes a resource, and is refused while it is referred to', async (t) => {
  const { flowgate } = await cliRig(t)
  const run = await flowgate(['delete', 'dataflowprofile', 'default', '-n', 'default'])
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, 'dataflowprofile/default deleted\n')
  await flowgate(['create', 'configmap', 'ca', '--from-literal=ca.crt=PEM'])
  const endpoint = 'apiVersion: connectivity.iotoperations.azure.com/v1beta1\nkind: DataflowEndpoint\nmetadata:\n  name: k\nspec:\n  endpointType: Kafka\n  kafkaSettings:\n    host: h:9093\n    tls:\n      trustedCaCertificateConfigMapRef: ca\n'
  t.equal((await flowgate(['apply', '-f', '-'], { stdin: endpoint })).code, 0)
  const refused = await flowgate(['delete', 'cm', 'ca'])
  t.equal(refused.code, 1)
  t.match(refused.stderr, /configmap\/ca is still referred to by dataflowendpoint\/k \[FG_ERR_REFERENCED\]/)
})
