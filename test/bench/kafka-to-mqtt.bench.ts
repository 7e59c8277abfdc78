import { Kafka, logLevel, type Producer } from 'kafkajs'
import { connectAsync, type MqttClient } from 'mqtt'
import { rig, createTopic, uniqueTopic, kafkaConfig, type RigInfo } from '@flowgate/testkit'
import type { Bench, Measurement } from './lib/types.js'
import { cpus } from 'node:os'
import { startChildGateway, startChildAedesFeed, procCpuSeconds, procMemory } from './lib/processes.js'
import { rawSubscriber } from './lib/raw-mqtt.js'

/** FLOWGATE_BENCH_CLIENT=mqttjs subscribes with mqtt.js instead of the lean raw client. */
const CLIENT = process.env.FLOWGATE_BENCH_CLIENT ?? 'raw'
/** FLOWGATE_BENCH_CPU_PROF=<dir>: the gateway child writes a V8 CPU profile there when it stops. */
const CPU_PROF_DIR = process.env.FLOWGATE_BENCH_CPU_PROF

const RECORDS = Number(process.env.FLOWGATE_BENCH_RECORDS ?? 300_000)
const RECORD_SIZE = 256
const PACED_RATE = 2_000
const PACED_SECONDS = 5
const PARTITIONS = 4

async function produceBacklog (producer: Producer, topic: string, count: number): Promise<void> {
  const value = Buffer.alloc(RECORD_SIZE, 'x')
  const batch = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % 16}`, value }))
  for (let i = 0; i < count; i += batch.length) await producer.send({ topic, acks: -1, messages: batch })
}

/** Records carrying their send time, at a steady rate: end-to-end latency without a backlog. */
async function producePaced (producer: Producer, topic: string): Promise<void> {
  const perTick = PACED_RATE / 100
  for (let tick = 0; tick < PACED_SECONDS * 100; tick++) {
    const started = Date.now()
    const sentAt = Buffer.alloc(RECORD_SIZE, 'x')
    sentAt.write(String(started).padStart(16, '0'))
    await producer.send({ topic, acks: 1, messages: Array.from({ length: perTick }, () => ({ value: sentAt })) })
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - (Date.now() - started))))
  }
}

const p99 = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length * 0.99)] ?? NaN }
const sentAtOf = (value: Buffer): number => Number(value.subarray(0, 16).toString())

/** Starts the group at offset 0 of every partition (a new group would start at the end). */
async function groupFromStart (r: RigInfo, groupId: string, topic: string): Promise<void> {
  const admin = new Kafka({ ...kafkaConfig(r, 'plaintext', 'bench-admin'), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.setOffsets({ groupId, topic, partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, offset: '0' })) })
  await admin.disconnect()
}

/** kafkajs consumer alone: the ceiling a Kafka → MQTT flow lives under. */
async function kafkajsAlone (r: RigInfo, producer: Producer, log: (line: string) => void): Promise<Measurement> {
  const topic = uniqueTopic('bench-k2m-ceiling')
  await createTopic(topic, PARTITIONS)
  await produceBacklog(producer, topic, RECORDS)
  const consumer = new Kafka({ ...kafkaConfig(r, 'plaintext', 'bench-consumer'), logLevel: logLevel.NOTHING }).consumer({ groupId: uniqueTopic('bench-ceiling') })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let count = 0
  let first = 0
  let last = 0
  const latencies: number[] = []
  let paced = false
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        const now = performance.now()
        for (const m of batch.messages) {
          if (paced) { latencies.push(Date.now() - sentAtOf(m.value!)); if (latencies.length >= PACED_RATE * PACED_SECONDS) resolve(); continue }
          if (count++ === 0) first = now
        }
        last = performance.now()
        if (!paced && count >= RECORDS) { paced = true; resolve() }
      }
    })
  })
  log(`kafkajs consumer alone: ${RECORDS} records backlog…`)
  await done
  const rate = (RECORDS - 1) / ((last - first) / 1000)
  const pacedDone = new Promise<void>((resolve) => { const timer = setInterval(() => { if (latencies.length >= PACED_RATE * PACED_SECONDS) { clearInterval(timer); resolve() } }, 50) })
  log(`kafkajs consumer alone: paced ${PACED_RATE} msg/s for ${PACED_SECONDS} s…`)
  await producePaced(producer, topic)
  await pacedDone
  await consumer.disconnect()
  return { label: 'kafkajs 2.2.4 consumer alone (eachBatch)', messagesPerSecond: rate, p99Ms: p99(latencies) }
}

/** A subscriber on `bench/#` that calls `onPayload` per message: the lean raw client, or mqtt.js when asked. */
async function subscribe (port: number, onPayload: (payload: Buffer) => void): Promise<{ end: () => Promise<void>, label: string }> {
  if (CLIENT === 'mqttjs') {
    const sub: MqttClient = await connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5 })
    await sub.subscribeAsync('bench/#', { qos: 1 })
    sub.on('message', (_topic, payload) => onPayload(payload))
    return { end: async () => { await sub.endAsync(true) }, label: 'mqtt.js subscriber' }
  }
  const sub = await rawSubscriber('127.0.0.1', port, 'bench-sub', 'bench/#', onPayload)
  return { end: async () => sub.end(), label: 'raw MQTT 5 subscriber' }
}

/** Times `total` arrivals: first to last, and the CPU the process `pid` spent between them. */
function arrivalClock (total: number, pid: number): { arrived: () => void, done: Promise<void>, rate: () => number, cpuShare: () => number } {
  let count = 0
  let first = 0
  let last = 0
  let cpuFirst = 0
  let cpuLast = 0
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((resolve) => { resolveDone = resolve })
  return {
    arrived () {
      const now = performance.now()
      if (count++ === 0) { first = now; cpuFirst = procCpuSeconds(pid) }
      last = now
      if (count === total) { cpuLast = procCpuSeconds(pid); resolveDone() }
    },
    done,
    rate: () => (total - 1) / ((last - first) / 1000),
    cpuShare: () => (cpuLast - cpuFirst) / ((last - first) / 1000)
  }
}

async function throughGateway (r: RigInfo, producer: Producer, log: (line: string) => void): Promise<{ m: Measurement, notes: string[] }> {
  const topic = uniqueTopic('bench-k2m')
  await createTopic(topic, PARTITIONS)
  await produceBacklog(producer, topic, RECORDS)
  const group = uniqueTopic('bench-k2m-group')
  await groupFromStart(r, group, topic)
  const gw = await startChildGateway(CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : [])
  const backlog = arrivalClock(RECORDS, gw.pid)
  let arrivals = 0
  const latencies: number[] = []
  const sub = await subscribe(gw.mqttPort, (payload) => {
    if (arrivals++ < RECORDS) backlog.arrived()
    else latencies.push(Date.now() - sentAtOf(payload))
  })
  log(`gateway flow → ${sub.label}: ${RECORDS} records backlog…`)
  const res = await gw.apply(`
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata: { name: kafka, namespace: default }
spec:
  endpointType: Kafka
  kafkaSettings:
    host: ${r.listeners.plaintext}
    authentication: { method: Anonymous, anonymousSettings: {} }
    tls: { mode: Disabled }
    consumerGroupId: ${group}
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: Dataflow
metadata: { name: bench, namespace: default }
spec:
  profileRef: default
  operations:
    - operationType: Source
      sourceSettings: { endpointRef: kafka, dataSources: [${topic}] }
    - operationType: Destination
      destinationSettings: { endpointRef: default, dataDestination: 'bench/\${inputTopic}' }
`)
  if (res.status !== 200) throw new Error(`apply: ${res.status} ${JSON.stringify(res.body)}`)
  await backlog.done
  const rate = backlog.rate()
  const cpuShare = backlog.cpuShare()
  const memory = procMemory(gw.pid)
  log(`gateway flow → ${sub.label}: paced ${PACED_RATE} msg/s for ${PACED_SECONDS} s…`)
  await producePaced(producer, topic)
  const until = Date.now() + 30_000
  while (latencies.length < PACED_RATE * PACED_SECONDS && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
  await sub.end()
  await gw.close()
  return {
    m: { label: `Kafka → gateway flow → ${sub.label} (QoS 1)`, messagesPerSecond: rate, p99Ms: p99(latencies), rssMb: memory.rssMb },
    notes: [
      `paced phase: ${latencies.length}/${PACED_RATE * PACED_SECONDS} messages arrived; p99 is Kafka send → MQTT arrival at ${PACED_RATE} msg/s`,
      `gateway (flowgate start, child process): ${Math.round(cpuShare * 100)}% of a core over the backlog, RSS ${Math.round(memory.rssMb)} MB after it (peak ${Math.round(memory.peakMb)} MB)`
    ]
  }
}

/**
 * A reference, not the baseline: the MQTT half of the flow alone — aedes fed in process through the same embedded
 * publisher, into the same subscriber — shows how much of the gap to the kafkajs ceiling is the broker's own. With
 * `sameAsFlow` the messages carry the flow's user properties ("Key", "Timestamp": the seed's rule for a keyed
 * record), which the broker encodes per delivery: the flow ÷ this is the cost of Kafka and translation alone.
 */
async function aedesAloneDelivery (log: (line: string) => void, sameAsFlow: boolean): Promise<{ m: Measurement, cpuShare: number }> {
  const broker = await startChildAedesFeed()
  const clock = arrivalClock(RECORDS, broker.pid)
  const sub = await subscribe(broker.mqttPort, () => clock.arrived())
  const what = sameAsFlow ? 'the flow\'s messages (Key + Timestamp user properties)' : 'plain messages'
  log(`(ref) aedes alone → ${sub.label}: ${RECORDS} in-process QoS 1 publishes, ${what}…`)
  broker.feed(RECORDS, 'bench/feed', sameAsFlow)
  await clock.done
  const memory = procMemory(broker.pid)
  await sub.end()
  await broker.close()
  return {
    m: { label: `(ref) aedes alone, fed in process, ${what} → ${sub.label} (no Kafka)`, messagesPerSecond: clock.rate(), rssMb: memory.rssMb },
    cpuShare: clock.cpuShare()
  }
}

/** Kafka → flow → MQTT subscriber against a kafkajs consumer alone reading the same backlog (the ceiling). */
export const kafkaToMqttBench: Bench = {
  name: 'kafka-to-mqtt',
  description: `${RECORDS} × ${RECORD_SIZE}-byte records, ${PARTITIONS} partitions, PLAINTEXT: gateway Kafka → MQTT flow (embedded broker, QoS 1) vs kafkajs consumer alone`,
  async run (log) {
    const r = await rig()
    const producer = new Kafka({ ...kafkaConfig(r, 'plaintext', 'bench-producer'), logLevel: logLevel.NOTHING }).producer()
    await producer.connect()
    try {
      const baseline = await kafkajsAlone(r, producer, log)
      const { m, notes } = await throughGateway(r, producer, log)
      const aedes = await aedesAloneDelivery(log, false)
      const same = await aedesAloneDelivery(log, true)
      return {
        baseline,
        candidates: [m, aedes.m, same.m],
        notes: [
          ...notes,
          `the flow ÷ (ref) aedes alone, plain messages: ${(m.messagesPerSecond / aedes.m.messagesPerSecond).toFixed(2)}×; aedes alone used ${Math.round(aedes.cpuShare * 100)}% of a core for its QoS 1 deliveries`,
          `the flow ÷ (ref) aedes alone, the flow's messages: ${(m.messagesPerSecond / same.m.messagesPerSecond).toFixed(2)}× (${Math.round(same.cpuShare * 100)}% of a core)`,
          `cores: ${cpus().length}, shared by Kafka, the gateway and the subscriber`,
          'backlog rate: first to last record read (baseline) or received by the subscriber (flow); the subscriber runs in the bench process, the gateway in its own']
      }
    } finally {
      await producer.disconnect()
    }
  }
}
