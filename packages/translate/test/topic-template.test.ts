// Destination topic templates: ${inputTopic} and ${inputTopic.N}, both directions; anything unresolvable is a drop.
import t from 'tap'
import { expandTopicTemplate, resolveKafkaTopic, resolveMqttTopic } from '../src/topic-template.js'
import { translateKafkaToMqtt } from '../src/kafka-to-mqtt.js'
import { translateMqttToKafka } from '../src/mqtt-to-kafka.js'
import { ctx, enc, mqttCtx } from './helpers.js'

const toKafka = (source: string, template: string) => translateMqttToKafka([{ topic: source, payload: enc('') }], {}, ctx({ destinationTopic: template }))[0]!
const toMqtt = (source: string, template: string) => translateKafkaToMqtt([{ topic: source, key: null, value: enc(''), headers: [] }], {}, mqttCtx({ destinationTopic: template }))[0]!

t.test('${inputTopic.N} is the N-th segment of the source topic, 1-based', async (t) => {
  t.same(expandTopicTemplate('site-${inputTopic.2}.${inputTopic.3}', 'factory/berlin/oven'), { ok: true, topic: 'site-berlin.oven' })
  const r = toKafka('factory/berlin/oven', 'plant-${inputTopic.2}')
  t.equal(r.ok ? r.record.topic : undefined, 'plant-berlin')
})

t.test('${inputTopic} is the whole source topic', async (t) => {
  const r = toMqtt('orders', 'kafka/${inputTopic}/in')
  t.equal(r.ok ? r.message.topic : undefined, 'kafka/orders/in')
  const k = toKafka('single', 'copy.${inputTopic}')
  t.equal(k.ok ? k.record.topic : undefined, 'copy.single')
})

t.test('a fixed destination topic is used as is', async (t) => {
  const r = toKafka('a/b', 'events')
  t.equal(r.ok ? r.record.topic : undefined, 'events')
})

t.test('a segment out of range is dropped as invalid-topic', async (t) => {
  t.match(toKafka('a/b', 'x-${inputTopic.3}'), { ok: false, reason: 'invalid-topic' })
  t.match(toMqtt('orders', 'x/${inputTopic.2}'), { ok: false, reason: 'invalid-topic' })
})

t.test('an unknown or malformed placeholder is dropped as invalid-topic', async (t) => {
  t.match(toKafka('a', '${outputTopic}'), { ok: false, reason: 'invalid-topic' })
  t.match(toKafka('a', '${inputTopic.0}'), { ok: false, reason: 'invalid-topic' })
  t.match(toKafka('a', 'x-${inputTopic'), { ok: false, reason: 'invalid-topic' })
})

t.test('an empty result is dropped as invalid-topic', async (t) => {
  t.match(toKafka('a//b', '${inputTopic.2}'), { ok: false, reason: 'invalid-topic' })
  t.match(toMqtt('a', ''), { ok: false, reason: 'invalid-topic' })
})

t.test('a Kafka destination with characters Kafka refuses ("/", spaces…) is dropped as invalid-topic', async (t) => {
  t.match(toKafka('factory/oven', '${inputTopic}'), { ok: false, reason: 'invalid-topic' })
  t.match(toKafka('a', 'has space'), { ok: false, reason: 'invalid-topic' })
  t.match(toKafka('a', '..'), { ok: false, reason: 'invalid-topic' })
  t.match(toKafka('a', 'x'.repeat(250)), { ok: false, reason: 'invalid-topic' })
})

t.test('an MQTT destination with a wildcard is dropped as invalid-topic', async (t) => {
  t.match(toMqtt('a', 'x/+/y'), { ok: false, reason: 'invalid-topic' })
  t.match(toMqtt('a', 'x/#'), { ok: false, reason: 'invalid-topic' })
  t.match(toMqtt('a', 'nul\u0000'), { ok: false, reason: 'invalid-topic' })
})

t.test('a bad template never throws, whatever the topic', async (t) => {
  for (const tpl of ['${', '}', '${}', '${inputTopic.999999999}', '${inputTopic.-1}', '$${inputTopic}']) {
    t.doesNotThrow(() => toKafka('a/b', tpl))
    t.doesNotThrow(() => toMqtt('a', tpl))
  }
})

t.test('a fleet larger than the remembered resolutions still resolves every topic right', async (t) => {
  // 20,000 device topics: more than kept per template, so the oldest are forgotten and resolved again.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 20_000; i++) {
      const device = `plant/line${i % 7}/device${i}`
      const fixed = resolveKafkaTopic('telemetry', device)
      const templated = resolveKafkaTopic('fleet-${inputTopic.2}', device)
      const mqtt = resolveMqttTopic('out/${inputTopic}', `t${i}`)
      if (!fixed.ok || fixed.topic !== 'telemetry') return t.fail(`fixed template for ${device}: ${JSON.stringify(fixed)}`)
      if (!templated.ok || templated.topic !== `fleet-line${i % 7}`) return t.fail(`templated for ${device}: ${JSON.stringify(templated)}`)
      if (!mqtt.ok || mqtt.topic !== `out/t${i}`) return t.fail(`mqtt template for t${i}: ${JSON.stringify(mqtt)}`)
    }
  }
  t.same(resolveKafkaTopic('bad topic', 'a/b'), { ok: false, detail: '"bad topic" is not a legal Kafka topic name (allowed: letters, digits, ".", "_", "-")' }, 'a fixed template\'s problem is remembered as one too')
  t.pass('120,000 resolutions')
})
