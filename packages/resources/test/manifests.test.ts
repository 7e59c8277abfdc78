import t from 'tap'
import { ManifestSyntaxError } from '../src/errors.js'
import { parseManifests } from '../src/manifests.js'

t.test('multi-document YAML yields one document per resource, skipping empty ones', async (t) => {
  const docs = parseManifests('kind: Secret\nmetadata: {name: a}\n---\n---\nkind: ConfigMap\nmetadata:\n  name: b\n', { filename: 'm.yaml' })
  t.same(docs.map((d) => [d.index, d.line, (d.value as any).metadata.name]), [[0, 1, 'a'], [1, 5, 'b']])
})

t.test('JSON, a JSON array and a kind: List are read too', async (t) => {
  t.equal(parseManifests('{"kind": "Secret", "metadata": {"name": "a"}}').length, 1)
  t.equal(parseManifests('[{"kind": "Secret"}, {"kind": "ConfigMap"}]').length, 2)
  t.same(parseManifests('kind: List\nitems:\n  - kind: Secret\n  - kind: ConfigMap\n').map((d) => (d.value as any).kind), ['Secret', 'ConfigMap'])
})

t.test('syntax errors name file, line and column', async (t) => {
  const err = t.throws(() => parseManifests('kind: Secret\nmetadata:\n  name: [a\n', { filename: 'bad.yaml' })) as ManifestSyntaxError
  t.equal(err.code, 'FG_ERR_MANIFEST_SYNTAX')
  t.match(err.message, /^bad\.yaml:\d+:\d+: /)
  const json = t.throws(() => parseManifests('{"a": 1,,}', { filename: 'bad.json' })) as ManifestSyntaxError
  t.match(json.message, /^bad\.json:1:\d+: /)
  t.equal(json.line, 1)
})

t.test('a JSON Pointer maps back to its line, field names matched case-insensitively', async (t) => {
  const text = 'kind: DataflowEndpoint\nmetadata:\n  name: k\nspec:\n  kafkaSettings:\n    Compression: zip\n    tls:\n      mode: On\n'
  const [doc] = parseManifests(text)
  t.equal(doc!.lineOf('/spec/kafkaSettings/compression'), 6)
  t.equal(doc!.lineOf('/spec/kafkaSettings/tls/mode'), 8)
  t.equal(doc!.lineOf('/spec/kafkaSettings/host'), 6, 'a missing field points at its parent map')
})

t.test('the seed\'s bare `*` reads as the topic filter `*`', async (t) => {
  const [doc] = parseManifests('sourceSettings:\n  dataSources:\n    *\nother: *\n')
  t.same(doc!.value, { sourceSettings: { dataSources: ['*'] }, other: '*' })
  t.throws(() => parseManifests('a: *missing\n'), { code: 'FG_ERR_MANIFEST_SYNTAX' }, 'a named alias without anchor is still an error')
})
