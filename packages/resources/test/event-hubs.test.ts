import t from 'tap'
import { validate } from '../src/validate.js'

const eventHubs = (compression: string, annotations?: Record<string, string>) => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name: 'eventhubs', namespace: 'azure-iot-operations', ...(annotations ? { annotations } : {}) },
  spec: { endpointType: 'Kafka', kafkaSettings: { host: 'flowgate.servicebus.windows.net:9093', compression, tls: { mode: 'Enabled' } } }
})

t.test('an Event Hubs host accepts Gzip and None', async (t) => {
  t.equal(validate(eventHubs('Gzip')).ok, true)
  t.equal(validate(eventHubs('none')).ok, true)
})

t.test('Snappy or Lz4 toward Event Hubs is refused at the compression field, naming the override', async (t) => {
  for (const compression of ['Snappy', 'lz4']) {
    const result = validate(eventHubs(compression))
    t.equal(result.ok, false)
    if (result.ok) continue
    t.equal(result.errors[0]?.path, '/spec/kafkaSettings/compression')
    t.same(result.errors[0]?.allowed, ['None', 'Gzip'])
    t.match(result.errors[0]?.message, /accepts only Gzip.*flowgate\.dev\/allow-unsupported-compression/)
  }
})

t.test('the annotation lets a user who knows better send Snappy anyway; other hosts are not affected', async (t) => {
  t.equal(validate(eventHubs('Snappy', { 'flowgate.dev/allow-unsupported-compression': 'true' })).ok, true)
  const other = eventHubs('Snappy')
  other.spec.kafkaSettings.host = 'kafka.example.internal:9093'
  t.equal(validate(other).ok, true)
})
