// The seed's CloudEvents tables (Propagate and CreateOrRemap), one test per row.
import t from 'tap'
import { translateMqttToKafka } from '../src/mqtt-to-kafka.js'
import type { MqttProperties, TranslateSettings } from '../src/types.js'
import { ctx, enc, NOW, textHeaders } from './helpers.js'

const SAMPLE: Array<[string, string]> = [
  ['specversion', '1.0'],
  ['type', 'ms.aio.telemetry'],
  ['source', 'aio://mycluster/myoven'],
  ['id', 'A234-1234-1234'],
  ['subject', 'aio/myoven/telemetry/temperature'],
  ['time', '2018-04-05T17:31:00Z'],
  ['datacontenttype', 'application/json'],
  ['dataschema', 'sr://fabrikam-schemas/123123123234234234234234#1.0.0']
]
const REQUIRED = SAMPLE.slice(0, 4)

function headers (settings: TranslateSettings, properties: MqttProperties): Map<string, string> {
  const [r] = translateMqttToKafka([{ topic: 'aio/myoven/telemetry', payload: enc('{}'), properties }], settings, ctx({ targetName: 'kafka-target', destinationTopic: 'oven-telemetry' }))
  if (r === undefined || !r.ok) throw new Error('expected a record')
  return new Map(textHeaders(r.record.headers))
}

const propagate: TranslateSettings = { cloudEventAttributes: 'Propagate' }
const createOrRemap: TranslateSettings = { cloudEventAttributes: 'CreateOrRemap' }

for (const [name, value] of SAMPLE) {
  const required = REQUIRED.some(([n]) => n === name)
  t.test(`Propagate: ${required ? 'required' : 'optional'} "${name}" (${value}) is output as "ce-${name}", passed through as is`, async (t) => {
    const h = headers(propagate, { userProperties: SAMPLE })
    t.equal(h.get(`ce-${name}`), value)
    t.notOk(h.has(name), 'renamed, not copied')
  })
}

t.test('Propagate: time is not restamped', async (t) => {
  t.equal(headers(propagate, { userProperties: SAMPLE }).get('ce-time'), '2018-04-05T17:31:00Z')
})

t.test('Propagate: a message without the required properties passes through as is (no ce- headers)', async (t) => {
  const props: Array<[string, string]> = [['specversion', '1.0'], ['type', 't'], ['source', 's'], ['subject', 'x']]
  const h = headers(propagate, { userProperties: props })
  t.same([...h.keys()], ['specversion', 'type', 'source', 'subject'])
})

t.test('Propagate: optional attributes absent are not generated', async (t) => {
  const h = headers(propagate, { userProperties: REQUIRED })
  t.same([...h.keys()], ['ce-specversion', 'ce-type', 'ce-source', 'ce-id'])
})

t.test('Propagate keeps the position of each attribute among the other user properties', async (t) => {
  const h = headers(propagate, { userProperties: [['a', '1'], ...REQUIRED.slice(0, 2), ['b', '2'], ...REQUIRED.slice(2)] })
  t.same([...h.keys()], ['a', 'ce-specversion', 'ce-type', 'b', 'ce-source', 'ce-id'])
})

const GENERATED: Array<[string, string | undefined, string]> = [
  ['specversion', '1.0', 'generated as 1.0'],
  ['type', 'ms.aio-dataflow.telemetry', 'generated as ms.aio-dataflow.telemetry'],
  ['source', 'aio://kafka-target', 'generated as aio://<target-name>'],
  ['id', '00000000-0000-4000-8000-000000000001', 'a generated UUID'],
  ['subject', 'oven-telemetry', 'the output topic where the message is sent'],
  ['time', new Date(NOW).toISOString(), 'generated as RFC 3339'],
  ['datacontenttype', 'application/json', 'the output data content type (the MQTT Content Type)'],
  ['dataschema', undefined, 'not generated: Flowgate has no schema registry']
]

for (const [name, value, how] of GENERATED) {
  t.test(`CreateOrRemap: missing "${name}" is output as "ce-${name}", ${how}`, async (t) => {
    const h = headers(createOrRemap, { contentType: 'application/json' })
    t.equal(h.get(`ce-${name}`), value)
  })
  t.test(`CreateOrRemap: present "${name}" is passed through as "ce-${name}"`, async (t) => {
    t.equal(headers(createOrRemap, { userProperties: SAMPLE }).get(`ce-${name}`), SAMPLE.find(([n]) => n === name)![1])
  })
}

t.test('CreateOrRemap: the time is RFC 3339', async (t) => {
  t.match(headers(createOrRemap, {}).get('ce-time'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
})

t.test('CreateOrRemap: the id is a UUID from globalThis.crypto when none is injected', async (t) => {
  const [r] = translateMqttToKafka([{ topic: 'a', payload: enc('') }], createOrRemap, { ...ctx(), randomUUID: undefined })
  const id = r?.ok === true ? new Map(textHeaders(r.record.headers)).get('ce-id') : undefined
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})

t.test('CreateOrRemap: only the missing attributes are generated, present ones kept', async (t) => {
  const h = headers(createOrRemap, { userProperties: [['id', 'mine'], ['source', 'aio://elsewhere']] })
  t.equal(h.get('ce-id'), 'mine')
  t.equal(h.get('ce-source'), 'aio://elsewhere')
  t.equal(h.get('ce-specversion'), '1.0')
})

t.test('CreateOrRemap: source uses the dataflow name when no target name is given', async (t) => {
  const [r] = translateMqttToKafka([{ topic: 'a', payload: enc('') }], createOrRemap, ctx())
  t.equal(r?.ok === true ? new Map(textHeaders(r.record.headers)).get('ce-source') : undefined, 'aio://my-dataflow')
})

t.test('no cloudEventAttributes: CloudEvents-named user properties are plain headers', async (t) => {
  t.same([...headers({}, { userProperties: SAMPLE }).keys()], SAMPLE.map(([n]) => n))
})

t.test('copyMqttProperties Disabled still writes the ce- headers (CloudEvents is a setting of its own)', async (t) => {
  const h = headers({ ...propagate, copyMqttProperties: 'Disabled' }, { contentType: 'x/y', userProperties: [...REQUIRED, ['other', '1']] })
  t.same([...h.keys()], ['ce-specversion', 'ce-type', 'ce-source', 'ce-id'])
})
