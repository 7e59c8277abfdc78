import { cpus } from 'node:os'
import { Kafka } from 'kafkajs'
import { rig, createTopic, uniqueTopic, kafkaConfig } from '@flowgate/testkit'
import type { Bench, Measurement } from './lib/types.js'
import { runLoad, type LoadResult, type LoadSpec } from './lib/load.js'
import { startChildGateway, startChildIngress, startMosquitto, startSubToKcat, procMemory, procCpuSeconds } from './lib/processes.js'
import { arrivalCounter, kafkajsCeiling, startNaiveBridge, topicRecords } from './lib/baselines.js'
import { benchFlow } from './lib/bench-flow.js'

// Sizes of the run; FLOWGATE_BENCH_SECONDS shortens or lengthens every measured window.
const PAYLOAD = 256
const CONNECTIONS = 100
const WINDOW = 20
const PARTITIONS = 3
const MEASURE_MS = Number(process.env.FLOWGATE_BENCH_SECONDS ?? 10) * 1000
const WARMUP_MS = 2000
const KAFKAJS_RECORDS = 300_000
/** The naive bridge manages a few hundred records a second: publishers paced well above that, not flat out. */
const NAIVE_PUBLISH_RATE = 5000
/** FLOWGATE_BENCH_CLIENT=mqttjs runs every configuration with mqtt.js publishers instead of the lean raw client. */
const CLIENT = (process.env.FLOWGATE_BENCH_CLIENT ?? 'raw') as LoadSpec['client']
/** FLOWGATE_BENCH_CPU_PROF=<dir>: the gateway child writes a V8 CPU profile there when it stops. */
const CPU_PROF_DIR = process.env.FLOWGATE_BENCH_CPU_PROF



const spec = (url: string, extra: Partial<LoadSpec> = {}): LoadSpec => ({
  url,
  connections: CONNECTIONS,
  window: WINDOW,
  payloadBytes: PAYLOAD,
  topicPrefix: 'bench',
  clientIdPrefix: `bench-${Math.random().toString(36).slice(2, 8)}`,
  protocolVersion: 5,
  client: CLIENT,
  warmupMs: WARMUP_MS,
  measureMs: MEASURE_MS,
  ...extra
})

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const ms = (n: number): string => n.toFixed(1)
const pct = (n: number): string => `${Math.round(n * 100)}%`
const describe = (l: LoadResult): string =>
  `${fmt(l.rate)} msg/s, p50 ${ms(l.latency.p50)} ms, p99 ${ms(l.latency.p99)} ms, load loop busy ${pct(l.eventLoopUtilization)}${l.failed ? `, ${l.failed} failed (${l.firstError})` : ''}${l.unacked ? `, ${l.unacked} never acked` : ''}`

/** Measures a process' CPU share over the load's window. */
function cpuWindow (pid: number): { start: () => void, end: () => void, share: () => number } {
  let c0 = 0; let c1 = 0; let t0 = 0; let t1 = 0
  return {
    start () { c0 = procCpuSeconds(pid); t0 = performance.now() },
    end () { c1 = procCpuSeconds(pid); t1 = performance.now() },
    share: () => (c1 - c0) / ((t1 - t0) / 1000)
  }
}

/** Issue #6: MQTT QoS 1 → Kafka through the all-in-one gateway, against its ceilings and two other pipelines. */
export const mqttToKafkaBench: Bench = {
  name: 'mqtt-to-kafka',
  description: `QoS 1 publishers (${CONNECTIONS} ${CLIENT === 'raw' ? 'raw-socket' : 'mqtt.js'} MQTT 5 connections × ${WINDOW} in flight, ${PAYLOAD}-byte payloads) → Kafka PLAINTEXT, acks all, ${PARTITIONS} partitions`,
  async run (log) {
    const r = await rig()
    const admin = new Kafka(kafkaConfig(r, 'plaintext', 'bench-offsets')).admin()
    await admin.connect()
    const notes: string[] = []
    const newTopic = async (prefix: string): Promise<string> => { const t = uniqueTopic(prefix); await createTopic(t, PARTITIONS); return t }

    try {
      // (b) kafkajs alone: the producer ceiling.
      log(`(b) kafkajs alone: ${fmt(KAFKAJS_RECORDS)} records…`)
      const kafkajs = await kafkajsCeiling(r, await newTopic('bench-m2k-kafkajs'), KAFKAJS_RECORDS, PAYLOAD)
      log(`(b) ${fmt(kafkajs.rate)} msg/s`)

      // (a) aedes alone: the same publishers into services/ingress with no interceptor (PUBACK at once).
      log('(a) aedes alone (services/ingress, child process)…')
      const ingress = await startChildIngress()
      let aedes: LoadResult
      let aedesMqttjs: LoadResult | undefined
      const aedesCpu = cpuWindow(ingress.pid)
      try {
        aedes = await runLoad(spec(`mqtt://127.0.0.1:${ingress.mqttPort}`), { onWindowStart: aedesCpu.start, onWindowEnd: aedesCpu.end })
        if (CLIENT === 'raw') {
          log(`(a) ${describe(aedes)}, broker CPU ${pct(aedesCpu.share())}`)
          log('(a′) aedes alone again, mqtt.js publishers (what the load generator costs)…')
          aedesMqttjs = await runLoad(spec(`mqtt://127.0.0.1:${ingress.mqttPort}`, { client: 'mqttjs', measureMs: Math.min(MEASURE_MS, 5000) }))
          log(`(a′) ${describe(aedesMqttjs)}`)
        }
      } finally { await ingress.close() }
      if (CLIENT !== 'raw') log(`(a) ${describe(aedes)}, broker CPU ${pct(aedesCpu.share())}`)

      // Flowgate: `flowgate start` as a child process, the dataflow applied through the admin API.
      log('Flowgate: flowgate start (child process), dataflow applied…')
      const fgTopic = await newTopic('bench-m2k-flowgate')
      const gw = await startChildGateway(CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : [])
      let flowgate: LoadResult
      let paced: LoadResult
      let memory: { rssMb: number, peakMb: number }
      let idleMb: number
      let sendLatencyMs = NaN
      const fgCpu = cpuWindow(gw.pid)
      const pacedCpu = cpuWindow(gw.pid)
      const fgArrivals = arrivalCounter(admin, fgTopic)
      try {
        await gw.applyAndWaitReady(benchFlow(r, fgTopic))
        idleMb = procMemory(gw.pid).rssMb
        log('Flowgate: flat out…')
        flowgate = await runLoad(spec(`mqtt://127.0.0.1:${gw.mqttPort}`), {
          onWindowStart: async () => { fgCpu.start(); await fgArrivals.start() },
          onWindowEnd: async () => { fgCpu.end(); await fgArrivals.end() }
        })
        memory = procMemory(gw.pid)
        const metrics = await (await fetch(`${gw.httpBase}/metrics`)).text()
        const metric = (name: string): number => Number(new RegExp(`^${name}\\{[^}]*\\} ([\\d.e+-]+)$`, 'm').exec(metrics)?.[1] ?? NaN)
        sendLatencyMs = 1000 * metric('aio_dataflow_send_latency_seconds_sum') / metric('aio_dataflow_send_latency_seconds_count')
        log(`Flowgate /metrics: mean destination send latency (batch wait + Kafka) ${ms(sendLatencyMs)} ms over the whole run`)
        log(`Flowgate: ${describe(flowgate)}, gateway CPU ${pct(fgCpu.share())}, Kafka saw ${fmt(fgArrivals.rate())} rec/s`)
        const half = Math.max(100, Math.round(flowgate.rate / 2))
        log(`Flowgate: paced at ${fmt(half)} msg/s (half its max)…`)
        paced = await runLoad(spec(`mqtt://127.0.0.1:${gw.mqttPort}`, { ratePerSecond: half }), { onWindowStart: pacedCpu.start, onWindowEnd: pacedCpu.end })
        log(`Flowgate paced: ${describe(paced)}, gateway CPU ${pct(pacedCpu.share())}`)
        const inKafka = await topicRecords(admin, fgTopic)
        const ackedTotal = flowgate.acked + paced.acked
        if (inKafka < ackedTotal) notes.push(`WARNING: ${fmt(ackedTotal)} publishes acknowledged but only ${fmt(inKafka)} records in Kafka`)
        else notes.push(`Flowgate delivery cross-check: ${fmt(ackedTotal)} PUBACKs, ${fmt(inKafka)} records in Kafka`)
      } finally { await gw.close() }

      // (c) Mosquitto → mosquitto_sub -q 1 | kcat -P: rate counted by Kafka end offsets over the window.
      log('(c) Mosquitto → mosquitto_sub | kcat -P…')
      const peerTopic = await newTopic('bench-m2k-peer')
      const mosq = await startMosquitto()
      const peerArrivals = arrivalCounter(admin, peerTopic)
      let peerLoad: LoadResult
      try {
        const pipe = await startSubToKcat(mosq.port, 'bench/#', r.listeners.plaintext, peerTopic)
        try {
          peerLoad = await runLoad(spec(`mqtt://127.0.0.1:${mosq.port}`), { onWindowStart: peerArrivals.start, onWindowEnd: peerArrivals.end })
        } finally { await pipe.close() }
      } finally { await mosq.close() }
      log(`(c) Kafka saw ${fmt(peerArrivals.rate())} rec/s; publishers into Mosquitto: ${describe(peerLoad)}`)

      // (d) the naive bridge, publishers paced (it cannot take more than a few hundred a second).
      log(`(d) naive bridge (mqtt.js → kafkajs, one awaited send per message), publishers paced at ${fmt(NAIVE_PUBLISH_RATE)} msg/s…`)
      const naiveTopic = await newTopic('bench-m2k-naive')
      const mosq2 = await startMosquitto()
      const naiveArrivals = arrivalCounter(admin, naiveTopic)
      try {
        const bridge = await startNaiveBridge(r, `mqtt://127.0.0.1:${mosq2.port}`, 'bench/#', naiveTopic)
        try {
          await runLoad(spec(`mqtt://127.0.0.1:${mosq2.port}`, { ratePerSecond: NAIVE_PUBLISH_RATE }), { onWindowStart: naiveArrivals.start, onWindowEnd: naiveArrivals.end })
        } finally { await bridge.close() }
      } finally { await mosq2.close() }
      log(`(d) Kafka saw ${fmt(naiveArrivals.rate())} rec/s`)
      if (naiveArrivals.rate() > 0.8 * NAIVE_PUBLISH_RATE) notes.push(`(d) may be publisher-limited: it kept up with the ${fmt(NAIVE_PUBLISH_RATE)} msg/s pacing`)

      const aLabel = '(a) aedes alone (services/ingress, PUBACK at once)'
      const bLabel = '(b) kafkajs alone (1000-record batches, 4 in flight)'
      const a: Measurement = { label: aLabel, messagesPerSecond: aedes.rate, p99Ms: aedes.latency.p99 }
      const b: Measurement = { label: bLabel, messagesPerSecond: kafkajs.rate }
      const [baseline, other] = a.messagesPerSecond <= b.messagesPerSecond ? [a, b] : [b, a]
      baseline.label = `lower ceiling = ${baseline.label}`
      const fg: Measurement = { label: 'Flowgate all-in-one, flat out (publish→PUBACK)', messagesPerSecond: flowgate.rate, p99Ms: flowgate.latency.p99, rssMb: memory.rssMb }
      const fgPaced: Measurement = { label: 'Flowgate paced at half its max (latencyMs 5)', messagesPerSecond: paced.rate, p99Ms: paced.latency.p99 }
      const peer: Measurement = { label: '(c) Mosquitto → mosquitto_sub | kcat -P (Kafka)', messagesPerSecond: peerArrivals.rate() }
      const naive: Measurement = { label: '(d) naive bridge mqtt.js → kafkajs, 1 awaited send', messagesPerSecond: naiveArrivals.rate() }
      const lower = baseline.messagesPerSecond
      notes.push(
        `Flowgate ÷ lower ceiling: ${(flowgate.rate / lower).toFixed(2)}× (target ≥ 0.6×); ÷ (a) ${(flowgate.rate / aedes.rate).toFixed(2)}×, ÷ (b) ${(flowgate.rate / kafkajs.rate).toFixed(2)}×`,
        `Flowgate ÷ (c) Mosquitto+kcat: ${(flowgate.rate / peerArrivals.rate()).toFixed(2)}×; ÷ (d) naive bridge: ${(flowgate.rate / naiveArrivals.rate()).toFixed(1)}× (target ≥ 10×)`,
        `Flowgate publish→PUBACK at half its max (${fmt(paced.rate)} msg/s achieved of ${fmt(Math.round(flowgate.rate / 2))} asked): p50 ${ms(paced.latency.p50)} ms, p99 ${ms(paced.latency.p99)} ms, max ${ms(paced.latency.max)} ms (target p99 ≤ 25 ms); flat out: p50 ${ms(flowgate.latency.p50)} ms, p99 ${ms(flowgate.latency.p99)} ms`,
        `Flowgate RSS (child process, /proc): ${memory.rssMb.toFixed(0)} MB after the flat-out run, peak ${memory.peakMb.toFixed(0)} MB, ${idleMb.toFixed(0)} MB idle with the dataflow ready`,
        `CPU over the window: gateway ${pct(fgCpu.share())} of a core flat out, ${pct(pacedCpu.share())} paced; aedes alone ${pct(aedesCpu.share())}; load generator event loop busy ${pct(flowgate.eventLoopUtilization)} (Flowgate), ${pct(aedes.eventLoopUtilization)} (aedes alone)`,
        `(c) publishers into Mosquitto completed ${fmt(peerLoad.rate)} PUBACKs/s; kcat (librdkafka, acks=all, linger 5 ms) gives no delivery guarantee end to end`,
        `load: ${CONNECTIONS} ${CLIENT === 'raw' ? 'lean raw-socket (lib/raw-mqtt.ts)' : 'mqtt.js 5.16'} MQTT 5 connections in a worker thread of the bench process (gateway, aedes and Mosquitto in processes of their own), each with ≤ ${WINDOW} QoS 1 publishes in flight; ${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured; Kafka broker on the same box`,
        `cores: ${cpus().length} shared by Kafka, the gateway and the load generator`
      )
      const extra: Measurement[] = aedesMqttjs ? [{ label: '(a′) aedes alone, mqtt.js publishers', messagesPerSecond: aedesMqttjs.rate, p99Ms: aedesMqttjs.latency.p99 }] : []
      if (aedesMqttjs) notes.push(`(a′) with mqtt.js publishers the load generator's loop was ${pct(aedesMqttjs.eventLoopUtilization)} busy: mqtt.js, not aedes, would set that ceiling`)
      notes.push(`Flowgate mean destination send latency (batching wait + Kafka round trip, from /metrics): ${ms(sendLatencyMs)} ms`)
      return { baseline, candidates: [other, ...extra, fg, fgPaced, peer, naive], notes }
    } finally {
      await admin.disconnect()
    }
  }
}
