// The translator over HTTP and as a fetch handler: same answers as the library, and the same as each other.
import t from 'tap'
import { doors } from './helpers.js'
import { K2M, M2K, kafkaToMqttCase, mqttToKafkaCase, murmur2Cases, staticCase } from './vectors.js'

t.test('MQTT → Kafka over HTTP and through the fetch handler answers exactly what the library does, in order', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const { body, expected } = mqttToKafkaCase()
  const http = await d.http(M2K, body)
  const direct = await d.direct(M2K, body)
  t.equal(http.status, 200)
  t.same(http.body, { results: expected })
  t.same(direct, http, 'the fetch handler answers the same')
  t.match(http.body.results, [{ ok: true }, { ok: false, reason: 'expired' }, { ok: true }, { ok: false, reason: 'invalid-topic' }])
})

t.test('Kafka → MQTT over HTTP and through the fetch handler answers exactly what the library does, in order', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const { body, expected } = kafkaToMqttCase()
  const http = await d.http(K2M, body)
  const direct = await d.direct(K2M, body)
  t.equal(http.status, 200)
  t.same(http.body, { results: expected })
  t.same(direct, http, 'the fetch handler answers the same')
  t.match(http.body.results[0], { ok: true, removedHeaders: { nonUtf8: 1, tooLarge: 1 }, amqpDecoded: 1, message: { properties: { contentType: 'text/plain', correlationData: 'AAE=' } } })
  t.match(http.body.results[1], { ok: false, reason: 'expired' })
  t.match(http.body.results[2], { ok: true, message: { properties: { messageExpiryInterval: 99 } } })
})

t.test("Kafka's Java partitioner vectors land on the same partitions through HTTP and the fetch handler", async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  for (const { partitions: n, vectors, body } of murmur2Cases()) {
    const http = await d.http(M2K, body)
    const direct = await d.direct(M2K, body)
    t.same(direct, http)
    const keyed = vectors.map((v, i) => [v, http.body.results[i]] as const).filter(([v]) => v.key !== '')
    for (const [v, r] of keyed) t.same({ key: r.record.key, partition: r.record.partition }, { key: v.key, partition: v.partitions[n] }, `key ${v.key} / ${n}`)
  }
})

t.test('Static without a known partition count answers staticPartitionOf for the producer', async (t) => {
  const d = await doors()
  t.teardown(() => d.server.close())
  const http = await d.http(M2K, staticCase.body)
  t.same(http.body.results, staticCase.expected)
  t.same(await d.direct(M2K, staticCase.body), http)
})
