// Bad requests: 400 with JSON Pointer paths, 413 for limits, 415, 404 — the same code and body from both front doors.
import t from 'tap'
import { doors } from './helpers.js'
import { invalidBodies, manyMessages } from './vectors.js'

const M2K = '/translate/v1/mqtt-to-kafka'
const K2M = '/translate/v1/kafka-to-mqtt'
const context = { now: 0, instanceId: 0, dataflow: 'df', destinationTopic: 'out' }

t.test('a bad body is a 400 naming every offending path, with allowed values for enums', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const { body } = invalidBodies.mqttToKafka
  const http = await d.http(M2K, body)
  t.equal(http.status, 400)
  t.equal(http.body.code, 'FG_ERR_TRANSLATOR_VALIDATION')
  const byPath = Object.fromEntries(http.body.errors.map((e: { path: string }) => [e.path, e]))
  t.match(byPath['/endpoint/partitionStrategy'], { allowed: ['Default', 'Static', 'Topic', 'Property'] })
  t.match(byPath['/endpoint/copyMqttProperties'], { allowed: ['Enabled', 'Disabled'] })
  t.match(byPath['/endpoint/bogus'], { message: 'unknown field' })
  t.ok(byPath['/context/now'])
  t.match(byPath['/context/destinationTopic'], { message: 'required' })
  t.match(byPath['/messages/0/payload'], { message: 'must be base64 (RFC 4648, padded)' })
  t.match(byPath['/messages/0/properties/payloadFormatIndicator'], { allowed: [true, false, 0, 1] })
  t.ok(byPath['/messages/0/properties/userProperties/0'])
  t.match(byPath['/messages/1/topic'], { message: 'required' })
  t.same(await d.direct(M2K, body), http, 'the fetch handler answers the same')
})

t.test('Kafka → MQTT bodies are validated too: headers as [name, base64] pairs, qos 0..2', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const { body, paths: expected } = invalidBodies.kafkaToMqtt
  const http = await d.http(K2M, body)
  t.equal(http.status, 400)
  const paths = http.body.errors.map((e: { path: string }) => e.path)
  t.same(paths.sort(), [...expected].sort())
  t.same(await d.direct(K2M, body), http)
})

t.test('strings are not coerced: "1" is not an instance id', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const { body } = invalidBodies.coercion
  const http = await d.http(M2K, body)
  t.equal(http.status, 400)
  t.same(http.body.errors.map((e: { path: string }) => e.path), ['/context/instanceId'])
  t.same(await d.direct(M2K, body), http)
})

t.test('more messages than maxMessages is a 413 FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES', async (t) => {
  const d = await doors({ maxMessages: 3 })
  t.teardown(() => d.server.close())
  const body = manyMessages(4) as { messages: unknown[] }
  const http = await d.http(M2K, body)
  t.equal(http.status, 413)
  t.equal(http.body.code, 'FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES')
  t.same(await d.direct(M2K, body), http)
  t.equal((await d.http(M2K, { ...body, messages: body.messages.slice(1) })).status, 200, 'exactly maxMessages is fine')
})

t.test('a body over the limit is a 413 FG_ERR_TRANSLATOR_BODY_TOO_LARGE', async (t) => {
  const d = await doors({ bodyLimit: 1024 })
  t.teardown(() => d.server.close())
  const body = { endpoint: {}, context, messages: [{ topic: 'a', payload: 'QUFB'.repeat(400) }] }
  const http = await d.http(M2K, body)
  t.equal(http.status, 413)
  t.equal(http.body.code, 'FG_ERR_TRANSLATOR_BODY_TOO_LARGE')
  t.same(await d.direct(M2K, body), http)
})

t.test('a body that is not JSON is a 400 FG_ERR_TRANSLATOR_BAD_JSON', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const http = await d.http(M2K, '{"endpoint":')
  const direct = await d.direct(M2K, '{"endpoint":')
  t.equal(http.status, 400)
  t.equal(http.body.code, 'FG_ERR_TRANSLATOR_BAD_JSON')
  t.same({ status: direct.status, code: direct.body.code }, { status: 400, code: 'FG_ERR_TRANSLATOR_BAD_JSON' })
})

t.test('a body that is not application/json is a 415 FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const init = { headers: { 'content-type': 'text/plain' } }
  const http = await d.http(M2K, 'hello', init)
  const direct = await d.direct(M2K, 'hello', init)
  t.same([http.status, http.body.code], [415, 'FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE'])
  t.same([direct.status, direct.body.code], [415, 'FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE'])
})

t.test('an unknown path is a 404 FG_ERR_TRANSLATOR_NOT_FOUND', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const http = await d.http('/translate/v2/mqtt-to-kafka', {})
  const direct = await d.direct('/translate/v2/mqtt-to-kafka', {})
  t.same([http.status, http.body.code], [404, 'FG_ERR_TRANSLATOR_NOT_FOUND'])
  t.same([direct.status, direct.body.code], [404, 'FG_ERR_TRANSLATOR_NOT_FOUND'])
})

t.test('an empty batch answers an empty result list', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const http = await d.http(K2M, { endpoint: {}, context, messages: [] })
  t.same(http, { status: 200, body: { results: [] } })
})
