import t from 'tap'
import { manifests, kafkaEndpoint, dataflow } from '@flowgate/testkit'
import { topicLoops } from '../src/topic-loops.js'
import { testAdmin } from './helpers.js'

// Two dataflows that feed each other (issue 18): devices' `#` into Kafka topic t, and t back to MQTT topic t/out,
// which `#` takes again. Refused with 422 naming both; what only looks alike is accepted.

const kafka = kafkaEndpoint({ name: 'kafka', host: '127.0.0.1:9092' })
const toKafka = (filters: string[], topic: string, extra: Record<string, unknown> = {}): object => ({ ...dataflow({ name: 'to-kafka', source: { endpointRef: 'default', dataSources: filters }, destination: { endpointRef: 'kafka', dataDestination: topic } }), ...extra })
const toMqtt = (topic: string, mqttTopic: string): object => dataflow({ name: 'to-mqtt', source: { endpointRef: 'kafka', dataSources: [topic] }, destination: { endpointRef: 'default', dataDestination: mqttTopic } })

t.test('apply refuses a pair of dataflows that feed each other with 422, naming both; nothing is stored', async (t) => {
  const admin = await testAdmin(t)
  const res = await admin.call('POST', '/api/v1/apply', manifests(kafka, toKafka(['#'], 't'), toMqtt('t', 't/out')))
  t.equal(res.status, 422)
  t.equal(res.body.code, 'FG_ERR_TOPIC_LOOP')
  t.same(res.body.dataflows, ['azure-iot-operations/to-kafka', 'azure-iot-operations/to-mqtt'])
  t.match(res.body.errors[0], { path: /^\/[12]\/spec\/operations$/, message: /Kafka topic "t".*MQTT topic "t\/out".*round forever/ })
  t.equal((await admin.call('GET', '/api/v1/dataflows')).body.items.length, 0, 'nothing stored')
})

t.test('the second half of a loop, applied later on its own (PUT), is refused too', async (t) => {
  const admin = await testAdmin(t)
  t.equal((await admin.call('POST', '/api/v1/apply', manifests(kafka, toKafka(['plant/#'], 't')))).status, 200)
  const res = await admin.call('PUT', '/api/v1/namespaces/azure-iot-operations/dataflows/to-mqtt', toMqtt('t', 'plant/out'))
  t.equal(res.status, 422)
  t.same(res.body.dataflows, ['azure-iot-operations/to-kafka', 'azure-iot-operations/to-mqtt'])
})

t.test('no loop: another MQTT topic, another Kafka topic, a disabled dataflow, a templated destination', async (t) => {
  const admin = await testAdmin(t)
  t.equal((await admin.call('POST', '/api/v1/apply', manifests(kafka, toKafka(['plant/#'], 't'), toMqtt('t', 'office/out')))).status, 200, 'the MQTT topic is not one the first takes')
  const other = await testAdmin(t)
  t.equal((await other.call('POST', '/api/v1/apply', manifests(kafka, toKafka(['#'], 't', { spec: { ...(toKafka(['#'], 't') as { spec: object }).spec, mode: 'Disabled' } }), toMqtt('t', 't/out')))).status, 200, 'disabled')
  t.same(topicLoops([toKafka(['#'], 'a') as never, toMqtt('b', 'x') as never], (ns, name) => (name === 'kafka' ? kafka : { spec: { endpointType: 'Mqtt', mqttSettings: { host: 'localhost:1883' } } }) as never), [], 'another Kafka topic')
  t.same(topicLoops([toKafka(['#'], 't') as never, toMqtt('t', '${inputTopic}/out') as never], (ns, name) => (name === 'kafka' ? kafka : { spec: { endpointType: 'Mqtt', mqttSettings: { host: 'localhost:1883' } } }) as never), [], 'a templated destination is left to the run-time marking')
})
