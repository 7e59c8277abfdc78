import { Kafka, logLevel, CompressionTypes, type Admin } from 'kafkajs'
import { connectAsync, type MqttClient } from 'mqtt'
import { kafkaConfig, type RigInfo } from '@flowgate/testkit'

/** Records in a topic so far: the sum of its partitions' end offsets (every topic here starts empty). */
export async function topicRecords (admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.reduce((n, o) => n + Number(o.high), 0)
}

/** Counts records arriving in a topic between two moments (the measured window of a run). */
export function arrivalCounter (admin: Admin, topic: string): { start: () => Promise<void>, end: () => Promise<void>, rate: () => number, count: () => number } {
  let c0 = 0; let c1 = 0; let t0 = 0; let t1 = 0
  return {
    async start () { c0 = await topicRecords(admin, topic); t0 = performance.now() },
    async end () { c1 = await topicRecords(admin, topic); t1 = performance.now() },
    rate: () => (c1 - c0) / ((t1 - t0) / 1000),
    count: () => c1 - c0
  }
}

/** kafkajs alone, as producer.bench measures it: batches of 1000 records, 4 sends in flight, idempotent, acks all. */
export async function kafkajsCeiling (r: RigInfo, topic: string, records: number, recordBytes: number): Promise<{ rate: number }> {
  const producer = new Kafka({ ...kafkaConfig(r, 'plaintext', 'bench-ceiling'), logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 5 })
  await producer.connect()
  const value = Buffer.alloc(recordBytes, 'x')
  const batch = Array.from({ length: 1000 }, () => ({ value }))
  const batches = Math.ceil(records / batch.length)
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < batches) {
      next++
      await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: batch })
    }
  }))
  const seconds = (performance.now() - started) / 1000
  await producer.disconnect()
  return { rate: (batches * batch.length) / seconds }
}

/**
 * The naive bridge: an mqtt.js QoS 1 subscriber whose message handler sends ONE record with kafkajs and awaits it
 * before taking the next message (mqtt.js' handleMessage holds the stream and the PUBACK until its callback).
 */
export async function startNaiveBridge (r: RigInfo, mqttUrl: string, filter: string, topic: string): Promise<{ close: () => Promise<void> }> {
  const producer = new Kafka({ ...kafkaConfig(r, 'plaintext', 'bench-naive-bridge'), logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const client: MqttClient = await connectAsync(mqttUrl, { protocolVersion: 5, clientId: 'bench-naive-bridge', clean: true, reconnectPeriod: 0 })
  client.handleMessage = (packet, callback) => {
    producer.send({ topic, acks: -1, messages: [{ value: packet.payload as Buffer }] }).then(() => callback(), (err: Error) => callback(err))
  }
  await client.subscribeAsync(filter, { qos: 1 })
  return {
    async close () {
      await client.endAsync(true).catch(() => {})
      await producer.disconnect().catch(() => {})
    }
  }
}
