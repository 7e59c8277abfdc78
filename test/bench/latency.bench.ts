import { cpus } from 'node:os'
import { rig, createTopic, uniqueTopic } from '@flowgate/testkit'
import type { Bench, Measurement } from './lib/types.js'
import { runLoad, type LoadResult, type LoadSpec } from './lib/load.js'
import { startChildGateway, startChildIngress, procCpuSeconds } from './lib/processes.js'
import { benchFlow } from './lib/bench-flow.js'
import { bucketQuantileMs, readHistogram } from './lib/prom-histogram.js'

/** FLOWGATE_BENCH_RATES: the paced rates (msg/s), comma-separated. */
const RATES = (process.env.FLOWGATE_BENCH_RATES ?? '10000,20000,40000').split(',').map(Number).filter((n) => n > 0)
const MEASURE_MS = Number(process.env.FLOWGATE_BENCH_SECONDS ?? 8) * 1000

const spec = (url: string, ratePerSecond: number): LoadSpec => ({
  url, connections: 100, window: 20, payloadBytes: 256, topicPrefix: 'bench', clientIdPrefix: `lat-${Math.random().toString(36).slice(2, 8)}`,
  protocolVersion: 5, client: 'raw', warmupMs: 2000, measureMs: MEASURE_MS, ratePerSecond
})
const ms = (n: number): string => n.toFixed(1)

const gauge = (metrics: string, name: string): number => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(metrics)?.[1] ?? NaN) * 1000

async function paced (url: string, rate: number, pid: number): Promise<{ load: LoadResult, cpu: number }> {
  let c0 = 0
  let cpu = 0
  const load = await runLoad(spec(url, rate), { onWindowStart: () => { c0 = procCpuSeconds(pid) }, onWindowEnd: () => { cpu = (procCpuSeconds(pid) - c0) / (MEASURE_MS / 1000) } })
  return { load, cpu }
}

/**
 * Issue #6's latency target, as a curve: publish → PUBACK at fixed paced rates through Flowgate (acks All,
 * latencyMs 5) against aedes alone (PUBACK at once, no Kafka) at the same rates, with what /metrics says about
 * where the time went (a Kafka produce request's p99, the gateway's event-loop lag p99).
 */
export const latencyBench: Bench = {
  name: 'latency',
  description: `publish → PUBACK p99 at paced rates ${RATES.join(', ')} msg/s (100 raw MQTT 5 connections, QoS 1, 256 B): Flowgate → Kafka vs aedes alone`,
  async run (log) {
    const r = await rig()
    const aedes: Array<{ rate: number, load: LoadResult, cpu: number }> = []
    const ingress = await startChildIngress()
    try {
      for (const rate of RATES) {
        log(`aedes alone paced at ${rate} msg/s…`)
        aedes.push({ rate, ...await paced(`mqtt://127.0.0.1:${ingress.mqttPort}`, rate, ingress.pid) })
      }
    } finally { await ingress.close() }

    const topic = uniqueTopic('bench-latency')
    await createTopic(topic, 3)
    const gw = await startChildGateway()
    const flowgate: Array<{ rate: number, load: LoadResult, cpu: number, produceP99: number, lagP99: number }> = []
    try {
      await gw.applyAndWaitReady(benchFlow(r, topic))
      for (const rate of RATES) {
        log(`Flowgate paced at ${rate} msg/s…`)
        const metricsText = async (): Promise<string> => await (await fetch(`${gw.httpBase}/metrics`)).text()
        await metricsText() // the event-loop lag histogram restarts at each scrape
        const run = await paced(`mqtt://127.0.0.1:${gw.mqttPort}`, rate, gw.pid)
        const metrics = await metricsText()
        flowgate.push({ rate, ...run, produceP99: bucketQuantileMs(readHistogram(metrics, 'aio_dataflow_kafka_produce_request_seconds'), 0.99), lagP99: gauge(metrics, 'nodejs_eventloop_lag_p99_seconds') })
      }
    } finally { await gw.close() }

    const baseline: Measurement = { label: `aedes alone at ${RATES[0]} msg/s`, messagesPerSecond: aedes[0]!.load.rate, p99Ms: aedes[0]!.load.latency.p99 }
    const candidates: Measurement[] = [
      ...aedes.slice(1).map((a) => ({ label: `aedes alone at ${a.rate} msg/s`, messagesPerSecond: a.load.rate, p99Ms: a.load.latency.p99 })),
      ...flowgate.map((f) => ({ label: `Flowgate at ${f.rate} msg/s`, messagesPerSecond: f.load.rate, p99Ms: f.load.latency.p99 }))
    ]
    const notes = flowgate.map((f, i) => {
      const a = aedes[i]!
      return `${f.rate} msg/s: Flowgate p50 ${ms(f.load.latency.p50)} / p99 ${ms(f.load.latency.p99)} ms vs aedes alone ${ms(a.load.latency.p50)} / ${ms(a.load.latency.p99)} ms ` +
        `(p99 ${(f.load.latency.p99 / a.load.latency.p99).toFixed(1)}×); gateway CPU ${Math.round(f.cpu * 100)}% (aedes ${Math.round(a.cpu * 100)}%); ` +
        `Kafka produce request p99 ≤ ${ms(f.produceP99)} ms; event-loop lag p99 ${ms(f.lagP99)} ms`
    })
    notes.push(`target (issue #6): p99 ≤ 25 ms at half of Flowgate's flat-out rate; cores: ${cpus().length}, shared by Kafka, the gateway and the load generator`)
    return { baseline, candidates, notes }
  }
}
