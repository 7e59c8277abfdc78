import WebSocket from 'ws'
import { rig, createTopic, uniqueTopic, type RigInfo } from '@flowgate/testkit'
import type { Bench, Measurement } from './lib/types.js'
import { runLoad, type LoadResult, type LoadSpec } from './lib/load.js'
import { startChildGateway } from './lib/processes.js'

// Issue #8: a live tail reader must never slow a dataflow. The same QoS 1 load through one gateway, with nobody
// tailing (baseline), with a reader that reads, and with a reader that never reads (its socket paused): the hub's
// per-reader bounded queue drops for it, the dataflow carries on. Target: the stalled reader costs ≤ 5 %.
const PAYLOAD = 256
const CONNECTIONS = 50
const WINDOW = 20
const MEASURE_MS = Number(process.env.FLOWGATE_BENCH_SECONDS ?? 10) * 1000

function manifests (r: RigInfo, topic: string): string {
  return `
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: DataflowEndpoint
metadata: { name: kafka-bench }
spec:
  endpointType: Kafka
  kafkaSettings:
    host: ${r.listeners.plaintext}
    authentication: { method: Anonymous, anonymousSettings: {} }
    tls: { mode: Disabled }
    batching: { mode: Enabled, latencyMs: 5 }
---
apiVersion: connectivity.iotoperations.azure.com/v1beta1
kind: Dataflow
metadata: { name: bench }
spec:
  operations:
    - operationType: Source
      sourceSettings: { endpointRef: default, dataSources: ['bench/#'] }
    - operationType: Destination
      destinationSettings: { endpointRef: kafka-bench, dataDestination: ${topic} }
`
}

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

export const tailBench: Bench = {
  name: 'tail',
  description: `MQTT → Kafka (${CONNECTIONS} raw MQTT 5 connections × ${WINDOW} QoS 1 in flight, ${PAYLOAD} B) with no tail reader, a reading one, and a stalled one`,
  async run (log) {
    const r = await rig()
    const topic = uniqueTopic('bench-tail')
    await createTopic(topic, 3)
    const gw = await startChildGateway()
    const notes: string[] = []
    try {
      const applied = await gw.apply(manifests(r, topic))
      if (applied.status !== 200) throw new Error(`apply: ${applied.status} ${JSON.stringify(applied.body)}`)
      for (let i = 0; ; i++) {
        const df = await gw.get('/api/v1/namespaces/default/dataflows/bench')
        if (df.status?.conditions?.some((c: { type: string, status: string }) => c.type === 'Ready' && c.status === 'True')) break
        if (i > 200) throw new Error(`dataflow not Ready: ${JSON.stringify(df.status)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const url = `mqtt://127.0.0.1:${gw.mqttPort}`
      const describe = (l: LoadResult): string => `${fmt(l.rate)} msg/s, p99 ${l.latency.p99.toFixed(1)} ms${l.failed ? `, ${l.failed} failed` : ''}`

      log('no tail reader…')
      const none = await runLoad(spec(url))
      log(`no reader: ${describe(none)}`)

      log('a stalled tail reader (socket paused)…')
      const stalled = await tailReader(gw.httpBase, gw.token, true)
      const withStalled = await runLoad(spec(url))
      log(`stalled reader: ${describe(withStalled)}; it received ${fmt(stalled.frames())} frames before stalling`)
      stalled.close()

      log('a reading tail reader…')
      const reading = await tailReader(gw.httpBase, gw.token, false)
      const withReading = await runLoad(spec(url))
      await new Promise((resolve) => setTimeout(resolve, 500))
      log(`reading reader: ${describe(withReading)}; it received ${fmt(reading.frames())} frames, ${fmt(reading.dropped())} reported dropped`)
      reading.close()

      log('no tail reader again (drift check)…')
      const again = await runLoad(spec(url))
      log(`no reader again: ${describe(again)}`)

      const loss = 1 - withStalled.rate / none.rate
      notes.push(`stalled reader costs ${(loss * 100).toFixed(1)} % of the no-reader rate (target ≤ 5 %); run-to-run drift without a reader ${((1 - again.rate / none.rate) * 100).toFixed(1)} %`)
      notes.push(`a reading reader got ${fmt(reading.frames())} frames for ${fmt(withReading.acked)} acknowledged publishes in its window (+warm-up); the rest were dropped for it, counted in frames`)
      const baseline: Measurement = { label: 'no tail reader', messagesPerSecond: none.rate, p99Ms: none.latency.p99 }
      return {
        baseline,
        candidates: [
          { label: 'one stalled tail reader (paused socket)', messagesPerSecond: withStalled.rate, p99Ms: withStalled.latency.p99 },
          { label: 'one reading tail reader (ws client, JSON.parse)', messagesPerSecond: withReading.rate, p99Ms: withReading.latency.p99 },
          { label: 'no tail reader, again', messagesPerSecond: again.rate, p99Ms: again.latency.p99 }
        ],
        notes
      }
    } finally {
      await gw.close()
    }
  }
}
