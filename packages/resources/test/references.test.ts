import t from 'tap'
import { builtinResources } from '../src/builtins.js'
import { checkReferences, dependencyOrder, references, type Lookup } from '../src/references.js'
import { validate } from '../src/validate.js'

const ns = 'azure-iot-operations'
const kafka = {
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name: 'kafka', namespace: ns },
  spec: {
    endpointType: 'Kafka',
    kafkaSettings: {
      host: 'k:9093',
      authentication: { method: 'Sasl', saslSettings: { saslType: 'Plain', secretRef: 'cs-secret' } },
      tls: { mode: 'Enabled', trustedCaCertificateConfigMapRef: 'ca' }
    }
  }
}
const flow = {
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'Dataflow',
  metadata: { name: 'df', namespace: ns },
  spec: {
    profileRef: 'default',
    operations: [
      { operationType: 'Source', sourceSettings: { endpointRef: 'default', dataSources: ['#'] } },
      { operationType: 'Destination', destinationSettings: { endpointRef: 'kafka', dataDestination: 't' } }
    ]
  }
}

t.test('references lists what a resource names, with the field that names it', async (t) => {
  t.same(references(kafka).map((r) => [r.kind, r.name, r.path]), [
    ['Secret', 'cs-secret', '/spec/kafkaSettings/authentication/saslSettings/secretRef'],
    ['ConfigMap', 'ca', '/spec/kafkaSettings/tls/trustedCaCertificateConfigMapRef']
  ])
  t.same(references(flow).map((r) => `${r.kind}/${r.name}`), ['DataflowProfile/default', 'DataflowEndpoint/default', 'DataflowEndpoint/kafka'])
})

t.test('dependency order puts referenced kinds first', async (t) => {
  const kinds = dependencyOrder([{ kind: 'Dataflow' }, { kind: 'DataflowEndpoint' }, { kind: 'ConfigMap' }, { kind: 'DataflowProfile' }, { kind: 'Secret' }]).map((r) => r.kind)
  t.same(kinds, ['ConfigMap', 'Secret', 'DataflowProfile', 'DataflowEndpoint', 'Dataflow'])
})

t.test('a dataflow\'s references resolve through its endpoints, and one side must be MQTT', async (t) => {
  const builtins = builtinResources()
  const world = (extra: any[]): Lookup => async (kind, namespace, name) =>
    [...builtins, ...extra].find((r: any) => r.kind === kind && r.metadata.namespace === namespace && r.metadata.name === name) as any
  const missing = await checkReferences(flow, world([kafka]))
  t.same(missing.map((p) => [p.code, p.reference]), [['FG_ERR_DANGLING_REFERENCE', 'secret/cs-secret'], ['FG_ERR_DANGLING_REFERENCE', 'configmap/ca']])
  const secret = { kind: 'Secret', metadata: { name: 'cs-secret', namespace: ns } }
  const ca = { kind: 'ConfigMap', metadata: { name: 'ca', namespace: ns } }
  t.same(await checkReferences(flow, world([kafka, secret, ca])), [])
  const kafkaToKafka = { ...flow, spec: { ...flow.spec, operations: [{ operationType: 'Source', sourceSettings: { endpointRef: 'kafka', dataSources: ['t'] } }, flow.spec.operations[1]] } }
  t.same((await checkReferences(kafkaToKafka, world([kafka, secret, ca]))).map((p) => p.code), ['FG_ERR_REFERENCE_MISMATCH'])
  const elsewhere = { ...flow, metadata: { name: 'df', namespace: 'other' } }
  t.same((await checkReferences(elsewhere, world([kafka, secret, ca]))).map((p) => p.reference), ['dataflowprofile/default', 'dataflowendpoint/default', 'dataflowendpoint/kafka'])
})

t.test('a fresh store holds the default MQTT endpoint and profile, valid by the schemas', async (t) => {
  const b = builtinResources({ mqttHost: 'localhost:1884', namespaces: ['default'] })
  t.same(b.map((r) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`), ['DataflowProfile/default/default', 'DataflowEndpoint/default/default'])
  t.match(b[1], { spec: { endpointType: 'Mqtt', mqttSettings: { host: 'localhost:1884', tls: { mode: 'Disabled' } } } })
  for (const r of b) t.ok(validate(r).ok)
})

