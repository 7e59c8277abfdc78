import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { parseManifests } from '../src/manifests.js'
import { validate } from '../src/validate.js'

// Every YAML example of the seed page (howto-configure-kafka-endpoint.md), copied verbatim into fixtures/.
// Whole resources are validated as they are; fragments (`kafkaSettings: …`, `spec: …`) are laid over a complete
// endpoint the way the page tells a reader to "update the section".
const dir = new URL('./fixtures/', import.meta.url)
const files = readdirSync(dir).filter((f) => f.startsWith('seed-')).sort()

/** What a reader types in place of the page's `<PLACEHOLDER>`s: a port for `<PORT>`, a DNS-style name otherwise. */
const fill = (text: string): string => text.replace(/<([A-Za-z][A-Za-z0-9_-]*)>/g, (_m, name: string) => name === 'PORT' ? '9093' : name.toLowerCase())

function read (file: string, filled = true): Record<string, any> {
  const text = readFileSync(new URL(file, dir), 'utf8')
  const docs = parseManifests(filled ? fill(text) : text, { filename: file })
  if (docs.length !== 1) throw new Error(`${file}: expected one document, found ${docs.length}`)
  return docs[0]!.value as Record<string, any>
}

const kafkaBase = (): Record<string, any> => read('seed-03-kafka-endpoint.yaml')
const mqttBase = (): Record<string, any> => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name: 'mq', namespace: 'azure-iot-operations' },
  spec: { endpointType: 'Mqtt', mqttSettings: { host: 'localhost:1883' } }
})

/** Deep merge; an `authentication` section is replaced whole (its method decides which settings may appear). */
function overlay (base: Record<string, any>, over: Record<string, any>): Record<string, any> {
  const out = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] = k !== 'authentication' && typeof v === 'object' && v !== null && typeof b === 'object' && b !== null ? overlay(b, v) : v
  }
  return out
}

t.test('the seed page has nineteen YAML examples and each is here', async (t) => {
  t.equal(files.length, 19)
})

for (const file of files) {
  t.test(`seed example ${file} applies once its placeholders are filled in, and names each one until then`, async (t) => {
    const raw = readFileSync(new URL(file, dir), 'utf8')
    const named = [...new Set(raw.match(/<[A-Za-z][A-Za-z0-9_-]*>/g) ?? [])]
    if (named.length > 0 && raw.includes('apiVersion')) {
      const asWritten = validate(read(file, false))
      t.equal(asWritten.ok, false, 'refused as written')
      const messages = asWritten.ok ? '' : asWritten.errors.map((e) => e.message).join('\n')
      for (const p of named) t.match(messages, p, `names ${p}`)
    }
    const doc = read(file)
    let resource: Record<string, any>
    if ('apiVersion' in doc) resource = doc
    else if ('spec' in doc) resource = overlay(kafkaBase(), doc)
    else if ('mqttSettings' in doc) resource = overlay(mqttBase(), { spec: doc })
    else resource = overlay(kafkaBase(), { spec: doc })
    const result = validate(resource)
    t.same(result.ok ? [] : result.errors, [], 'no validation errors')
    t.ok(result.ok)
  })
}

t.test('the seed Dataflow\'s bare `*` means every topic', async (t) => {
  const result = validate(read('seed-04-dataflow.yaml'))
  if (!result.ok) return t.fail(JSON.stringify(result.errors))
  const ops = (result.resource as any).spec.operations
  t.same(ops[0].sourceSettings.dataSources, ['*'])
  t.equal(ops[1].destinationSettings.dataDestination, '${inputTopic}', 'no dataDestination keeps the source topic')
})

t.test('the seed\'s batching `enabled: true` is stored as mode Enabled', async (t) => {
  const result = validate(overlay(kafkaBase(), { spec: read('seed-15-batching.yaml') }))
  if (!result.ok) return t.fail(JSON.stringify(result.errors))
  t.same((result.resource as any).spec.kafkaSettings.batching, { mode: 'Enabled', latencyMs: 1000, maxMessages: 100, maxBytes: 1024 })
})

t.test('the seed\'s `CloudEventAttributes` under mqttSettings is stored in the schema\'s spelling', async (t) => {
  const result = validate(overlay(mqttBase(), { spec: read('seed-19-cloud-event-attributes.yaml') }))
  if (!result.ok) return t.fail(JSON.stringify(result.errors))
  t.equal((result.resource as any).spec.mqttSettings.cloudEventAttributes, 'Propagate')
  t.notOk('CloudEventAttributes' in (result.resource as any).spec.mqttSettings)
})
