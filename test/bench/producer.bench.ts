import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Kafka, logLevel, CompressionTypes } from 'kafkajs'
import { rig, createTopic, uniqueTopic, kafkaConfig } from '@flowgate/testkit'
import type { Bench, Measurement } from './lib/types.js'

const run = promisify(execFile)
const RECORDS = 200_000
const RECORD_SIZE = 256

/** kafkajs alone against Kafka's own ProducerPerformance (same jars): the producer ceiling Flowgate lives under. */
export const producerBench: Bench = {
  name: 'producer',
  description: `kafkajs producer alone vs Kafka's ProducerPerformance, PLAINTEXT, ${RECORD_SIZE}-byte records, acks=all`,
  async run (log) {
    const r = await rig()

    const javaTopic = uniqueTopic('bench-java')
    await createTopic(javaTopic, 1)
    log(`ProducerPerformance: ${RECORDS} records…`)
    const { stdout } = await run('java', ['-Xmx512m', '-cp', `${r.classpath}/*`, 'org.apache.kafka.tools.ProducerPerformance',
      '--topic', javaTopic, '--num-records', String(RECORDS), '--record-size', String(RECORD_SIZE), '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${r.listeners.plaintext}`, 'acks=all', 'linger.ms=5', 'enable.idempotence=true'], { maxBuffer: 1 << 24 })
    // Last line: "200000 records sent, 98765.4 records/sec (24.11 MB/sec), 12.3 ms avg latency, … 99th …"
    const summary = stdout.trim().split('\n').at(-1) ?? ''
    const rate = Number(/([\d.]+) records\/sec/.exec(summary)?.[1])
    const p99 = Number(/([\d.]+) ms 99th/.exec(summary)?.[1])
    const baseline: Measurement = { label: 'Kafka ProducerPerformance (Java, linger.ms=5)', messagesPerSecond: rate, p99Ms: p99 }

    const topic = uniqueTopic('bench-kafkajs')
    await createTopic(topic, 1)
    const producer = new Kafka({ ...kafkaConfig(r, 'plaintext', 'bench'), logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 5 })
    await producer.connect()
    const value = Buffer.alloc(RECORD_SIZE, 'x')
    const batch = Array.from({ length: 1000 }, () => ({ value }))
    const inFlight = 4
    log(`kafkajs: ${RECORDS} records, batches of ${batch.length}, ${inFlight} in flight…`)
    const latencies: number[] = []
    const started = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < RECORDS / batch.length) {
        next++
        const t0 = performance.now()
        await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: batch })
        latencies.push(performance.now() - t0)
      }
    }))
    const seconds = (performance.now() - started) / 1000
    await producer.disconnect()
    latencies.sort((a, b) => a - b)
    return {
      baseline,
      candidates: [{ label: 'kafkajs 2.2.4 (batches of 1000, 4 in flight, idempotent)', messagesPerSecond: RECORDS / seconds, p99Ms: latencies[Math.floor(latencies.length * 0.99)], rssMb: process.memoryUsage().rss / 2 ** 20 }],
      notes: ['kafkajs p99 is per 1000-record send; ProducerPerformance p99 is per record']
    }
  }
}
