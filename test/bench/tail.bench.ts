import WebSocket from 'ws'
import { createTailHub, tailObserver } from '@flowgate/admin'
import { rig, createTopic, uniqueTopic } from '@flowgate/testkit'
import type { Bench, Measurement } from './lib/types.js'
import { runLoad, type LoadResult, type LoadSpec } from './lib/load.js'
import { startChildGateway } from './lib/processes.js'
import { benchFlow } from './lib/bench-flow.js'

// Issue #8: a live tail reader must never slow a dataflow. The same QoS 1 load through one gateway, with nobody
// tailing (baseline), with a reader that reads, and with a reader that never reads (its socket paused): the hub's
// per-reader bounded queue drops for it, the dataflow carries on. Target: the stalled reader costs ≤ 5 %.
const PAYLOAD = 256
const CONNECTIONS = 50
const WINDOW = 20
const MEASURE_MS = Number(process.env.FLOWGATE_BENCH_SECONDS ?? 10) * 1000



const spec = (url: string): LoadSpec => ({
  url,
  connections: CONNECTIONS,
  window: WINDOW,
  payloadBytes: PAYLOAD,
  topicPrefix: 'bench',
  clientIdPrefix: `tail-${Math.random().toString(36).slice(2, 8)}`,
  protocolVersion: 5,
  client: 'raw',
  warmupMs: 2000,
  measureMs: MEASURE_MS
})

/** A tail reader over the real WebSocket; `stalled` pauses the socket at once, so the kernel buffers fill and stay full. */
async function tailReader (httpBase: string, token: string, stalled: boolean): Promise<{ frames: () => number, dropped: () => number, close: () => void }> {
  const ws = new WebSocket(`${httpBase.replace(/^http/, 'ws')}/api/v1/tail?dataflow=bench`, { headers: { authorization: `Bearer ${token}` } })
  let frames = 0
  let dropped = 0
  ws.on('message', (data) => { frames++; const f = JSON.parse(String(data)); dropped += f.dropped ?? 0 })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  if (stalled) ws.pause()
  return { frames: () => frames, dropped: () => dropped, close: () => ws.terminate() }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

/**
 * The tail's own cost per acknowledged record, in process and without the noise of a shared 2-core box: the
 * observer the egress calls, with nobody listening, with one stalled reader (its queue full), and with a reader
 * that takes every frame (the frame is built).
 */
function observerCost (): { none: number, stalled: number, building: number } {
  const message = { topic: 'bench/line1/temp', payload: Buffer.alloc(PAYLOAD, 'x'), qos: 1, retain: false, properties: { contentType: 'application/json', userProperties: { site: 'a' } } }
  const record = { topic: 'telemetry', key: null, value: message.payload, headers: [['Content Type', Buffer.from('application/json')]] as Array<[string, Uint8Array]> }
  const flow = { name: 'bench', namespace: 'default' }
  const result = { partition: 0, offset: '1' }
  const run = (mode: 'none' | 'stalled' | 'building'): number => {
    const hub = createTailHub()
    const obs = tailObserver(hub)
    const reader = mode === 'none' ? undefined : hub.subscribe({}, { maxQueue: 1000 })
    const N = 200_000
    const t0 = performance.now()
    for (let i = 0; i < N; i++) {
      obs.sentToKafka(flow, message, record, result)
      if (mode === 'building') reader!.shift()
    }
    const ns = (performance.now() - t0) * 1e6 / N
    reader?.close()
    return ns
  }
  for (const m of ['none', 'stalled', 'building'] as const) run(m) // warm up the JIT
  return { none: run('none'), stalled: run('stalled'), building: run('building') }
}

export const tailBench: Bench = {
  name: 'tail',
  description: `MQTT → Kafka (${CONNECTIONS} raw MQTT 5 connections × ${WINDOW} QoS 1 in flight, ${PAYLOAD} B) with no tail reader, a reading one, and a stalled one`,
  async run (log) {
    const cost = observerCost()
    log(`observer cost per record: ${cost.none.toFixed(0)} ns with no reader, ${cost.stalled.toFixed(0)} ns with a stalled reader, ${cost.building.toFixed(0)} ns building a frame`)
    const r = await rig()
    const topic = uniqueTopic('bench-tail')
    await createTopic(topic, 3)
    const gw = await startChildGateway()
    const notes: string[] = []
    try {
      await gw.applyAndWaitReady(benchFlow(r, topic))
      const url = `mqtt://127.0.0.1:${gw.mqttPort}`
      const describe = (l: LoadResult): string => `${fmt(l.rate)} msg/s, p99 ${l.latency.p99.toFixed(1)} ms${l.failed ? `, ${l.failed} failed` : ''}`

      // ABBA order (none, stalled, stalled, none): on a 2-core box with Kafka beside it, rates drift between
      // windows; alternating cancels a linear drift, and the spread of the no-reader runs says how far to trust it.
      const none: LoadResult[] = []
      const stalledRuns: LoadResult[] = []
      const withStalledReader = async (): Promise<LoadResult> => {
        const stalled = await tailReader(gw.httpBase, gw.token, true)
        try { return await runLoad(spec(url)) } finally { stalled.close() }
      }
      for (const which of ['none', 'stalled', 'stalled', 'none'] as const) {
        log(which === 'none' ? 'no tail reader…' : 'a stalled tail reader (socket paused, never read)…')
        const result = which === 'none' ? await runLoad(spec(url)) : await withStalledReader()
        ;(which === 'none' ? none : stalledRuns).push(result)
        log(`${which}: ${describe(result)}`)
      }

      log('a reading tail reader…')
      const reading = await tailReader(gw.httpBase, gw.token, false)
      const withReading = await runLoad(spec(url))
      await new Promise((resolve) => setTimeout(resolve, 500))
      log(`reading reader: ${describe(withReading)}; it received ${fmt(reading.frames())} frames, ${fmt(reading.dropped())} reported dropped`)
      reading.close()

      const mean = (runs: LoadResult[], f: (l: LoadResult) => number): number => runs.reduce((a, l) => a + f(l), 0) / runs.length
      const noneRate = mean(none, (l) => l.rate)
      const stalledRate = mean(stalledRuns, (l) => l.rate)
      const spread = Math.abs(none[0]!.rate - none[1]!.rate) / noneRate
      notes.push(`stalled reader costs ${((1 - stalledRate / noneRate) * 100).toFixed(1)} % of the no-reader rate (target ≤ 5 %); the two no-reader runs differ by ${(spread * 100).toFixed(1)} %`)
      notes.push(`in process, the observer costs ${cost.none.toFixed(0)} ns per record with no reader, ${cost.stalled.toFixed(0)} ns with a stalled one (${(cost.stalled * noneRate / 1e7).toFixed(2)} % of one core at the no-reader rate), ${cost.building.toFixed(0)} ns when it builds a frame`)
      notes.push(`the reading reader (in the bench process, sharing its 2 cores) got ${fmt(reading.frames())} frames and ${fmt(reading.dropped())} drop counts`)
      const baseline: Measurement = { label: 'no tail reader (mean of 2, ABBA)', messagesPerSecond: noneRate, p99Ms: mean(none, (l) => l.latency.p99) }
      return {
        baseline,
        candidates: [
          { label: 'one stalled tail reader (mean of 2, ABBA)', messagesPerSecond: stalledRate, p99Ms: mean(stalledRuns, (l) => l.latency.p99) },
          { label: 'one reading tail reader (ws client, JSON.parse)', messagesPerSecond: withReading.rate, p99Ms: withReading.latency.p99 }
        ],
        notes
      }
    } finally {
      await gw.close()
    }
  }
}
