// The seed's "Partition handling strategy" table, one test per row, and the contract with the producer.
import t from 'tap'
import { javaCompatiblePartition } from '../src/murmur2.js'
import { translateMqttToKafka } from '../src/mqtt-to-kafka.js'
import type { MqttMessage, ToKafkaResult, TranslateContext, TranslateSettings } from '../src/types.js'
import { ctx, dec, enc } from './helpers.js'

function one (settings: TranslateSettings, m: Partial<MqttMessage> = {}, c: Partial<TranslateContext> = {}): Extract<ToKafkaResult, { ok: true }> {
  const [r] = translateMqttToKafka([{ topic: 'factory/oven-1/temp', payload: enc('1'), ...m }], settings, ctx(c))
  if (r === undefined || !r.ok) throw new Error('expected a record')
  return r
}

t.test('Default: no key and no partition, so the producer spreads records round-robin', async (t) => {
  const r = one({ partitionStrategy: 'Default' }, {}, { partitions: () => 6 })
  t.equal(r.record.key, null)
  t.equal(r.record.partition, undefined)
  t.equal(r.staticPartitionOf, undefined)
})

t.test('Default is the strategy when none is given', async (t) => {
  t.equal(one({}).record.key, null)
})

t.test('Static: partition = instance id mod partition count', async (t) => {
  t.equal(one({ partitionStrategy: 'Static' }, {}, { instanceId: 7, partitions: () => 3 }).record.partition, 1)
  t.equal(one({ partitionStrategy: 'Static' }, {}, { instanceId: 2, partitions: () => 3 }).record.partition, 2)
  t.equal(one({ partitionStrategy: 'Static' }, {}, { instanceId: 2, partitions: () => 3 }).record.key, null)
})

t.test('Static with an unknown partition count: no partition, staticPartitionOf = instance id for the producer', async (t) => {
  const r = one({ partitionStrategy: 'Static' }, {}, { instanceId: 5 })
  t.equal(r.record.partition, undefined)
  t.equal(r.staticPartitionOf, 5)
})

t.test('Topic: the key is the MQTT source topic', async (t) => {
  const r = one({ partitionStrategy: 'Topic' })
  t.equal(dec(r.record.key!), 'factory/oven-1/temp')
  t.equal(r.record.partition, undefined, 'the producer decides with the Java-compatible partitioner')
})

t.test('Topic with a known partition count: the partition is the Java client’s for that key', async (t) => {
  const r = one({ partitionStrategy: 'Topic' }, {}, { partitions: () => 12 })
  t.equal(r.record.partition, javaCompatiblePartition(enc('factory/oven-1/temp'), 12))
})

t.test('Property: the key is the value of the named user property (seed example: device-id)', async (t) => {
  const r = one({ partitionStrategy: 'Property', partitionKeyProperty: 'device-id' }, { properties: { userProperties: [['site', 's1'], ['device-id', 'oven-1'], ['device-id', 'second']] } })
  t.equal(dec(r.record.key!), 'oven-1', 'the first property of that name')
})

t.test('Property: messages with the same property value land in the same partition', async (t) => {
  const s: TranslateSettings = { partitionStrategy: 'Property', partitionKeyProperty: 'device-id' }
  const a = one(s, { topic: 'x/1', properties: { userProperties: [['device-id', 'd-9']] } }, { partitions: () => 10 })
  const b = one(s, { topic: 'y/2', properties: { userProperties: [['device-id', 'd-9']] } }, { partitions: () => 10 })
  t.equal(a.record.partition, b.record.partition)
})

t.test('Property: a missing property falls back to Default (no key, no partition)', async (t) => {
  const r = one({ partitionStrategy: 'Property', partitionKeyProperty: 'device-id' }, { properties: { userProperties: [['other', 'x']] } }, { partitions: () => 4 })
  t.equal(r.record.key, null)
  t.equal(r.record.partition, undefined)
})

t.test('Property naming a built-in ("Content Type") keys by the built-in when no user property has that name', async (t) => {
  const s: TranslateSettings = { partitionStrategy: 'Property', partitionKeyProperty: 'Content Type' }
  t.equal(dec(one(s, { properties: { contentType: 'application/json' } }).record.key!), 'application/json')
  t.equal(dec(one(s, { properties: { contentType: 'a/b', userProperties: [['Content Type', 'user']] } }).record.key!), 'user', 'a user property wins')
  t.same(Array.from(one({ partitionStrategy: 'Property', partitionKeyProperty: 'Correlation Data' }, { properties: { correlationData: new Uint8Array([9, 255]) } }).record.key!), [9, 255])
})

t.test('Property naming "Message Expiry Interval" does not key (it changes while a message waits)', async (t) => {
  t.equal(one({ partitionStrategy: 'Property', partitionKeyProperty: 'Message Expiry Interval' }, { properties: { messageExpiryInterval: 60 } }).record.key, null)
})

t.test('Property without a partitionKeyProperty falls back to Default', async (t) => {
  t.equal(one({ partitionStrategy: 'Property' }).record.key, null)
})

t.test('a negative instance id still gives a partition in range', async (t) => {
  t.equal(one({ partitionStrategy: 'Static' }, {}, { instanceId: -1, partitions: () => 4 }).record.partition, 3)
})
