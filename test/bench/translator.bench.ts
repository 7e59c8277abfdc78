import { Pool } from 'undici'
import { pino } from 'pino'
import { translateMqttToKafka, type MqttMessage } from '@flowgate/translate'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startTranslator, createFetchHandler } from '@flowgate/translator'
import { buildEdge, startEdge, type EdgeRuntimeName } from '@flowgate/translator/edge'
import type { Bench, Measurement } from './lib/types.js'

const BATCH = 1000
const SECONDS = 4

/** A telemetry message with the built-in properties and two user properties, 256-byte payload. */
function message (i: number): MqttMessage {
  return {
    topic: `factory/line${i % 8}/temp`,
    payload: new Uint8Array(256).fill(97),
    properties: { contentType: 'application/json', messageExpiryInterval: 3600, correlationData: new Uint8Array([1, 2, 3]), userProperties: [['device-id', `d-${i % 50}`], ['site', 'north']] },
    receivedAt: 0
  }
}

const settings = { partitionStrategy: 'Property' as const, partitionKeyProperty: 'device-id', cloudEventAttributes: 'CreateOrRemap' as const }
const context = { now: 1000, instanceId: 0, dataflow: 'bench', destinationTopic: 'telemetry' }
const wireBody = JSON.stringify({
  endpoint: settings,
  context,
  messages: Array.from({ length: BATCH }, (_, i) => {
    const m = message(i)
    return { topic: m.topic, payload: Buffer.from(m.payload).toString('base64'), properties: { contentType: 'application/json', messageExpiryInterval: 3600, correlationData: 'AQID', userProperties: [['device-id', `d-${i % 50}`], ['site', 'north']] }, receivedAt: 0 }
  })
})

async function rate (label: string, once: () => Promise<unknown> | unknown): Promise<Measurement> {
  const latencies: number[] = []
  const until = performance.now() + SECONDS * 1000
  let batches = 0
  const started = performance.now()
  while (performance.now() < until) {
    const t0 = performance.now()
    await once()
    latencies.push(performance.now() - t0)
    batches++
  }
  latencies.sort((a, b) => a - b)
  return { label, messagesPerSecond: batches * BATCH / ((performance.now() - started) / 1000), p99Ms: latencies[Math.floor(latencies.length * 0.99)] }
}

async function overHttp (label: string, url: string): Promise<Measurement> {
  const pool = new Pool(url, { connections: 4, pipelining: 1 })
  try {
    return await rate(label, async () => {
      const res = await pool.request({ path: '/translate/v1/mqtt-to-kafka', method: 'POST', headers: { 'content-type': 'application/json' }, body: wireBody })
      if (res.statusCode !== 200) throw new Error(`${label}: HTTP ${res.statusCode} ${await res.body.text()}`)
      await res.body.json()
    })
  } finally {
    await pool.close()
  }
}

/**
 * Several HTTP translators measured in turns (`rounds` slices of `SECONDS / rounds` each, in rotation), so a load
 * that comes and goes on a shared machine falls on all of them alike: the ratios between them are what to read.
 */
async function overHttpInTurns (targets: Array<{ label: string, url: string }>, rounds = 4): Promise<Measurement[]> {
  const acc = targets.map((x) => ({ ...x, pool: new Pool(x.url, { connections: 4, pipelining: 1 }), batches: 0, ms: 0, latencies: [] as number[] }))
  try {
    for (let round = 0; round < rounds; round++) {
      for (const a of acc) {
        const started = performance.now()
        const until = started + SECONDS * 1000 / rounds
        while (performance.now() < until) {
          const t0 = performance.now()
          const res = await a.pool.request({ path: '/translate/v1/mqtt-to-kafka', method: 'POST', headers: { 'content-type': 'application/json' }, body: wireBody })
          if (res.statusCode !== 200) throw new Error(`${a.label}: HTTP ${res.statusCode} ${await res.body.text()}`)
          await res.body.json()
          a.latencies.push(performance.now() - t0)
          a.batches++
        }
        a.ms += performance.now() - started
      }
    }
  } finally {
    await Promise.all(acc.map((a) => a.pool.close()))
  }
  return acc.map((a) => {
    a.latencies.sort((x, y) => x - y)
    return { label: a.label, messagesPerSecond: a.batches * BATCH / (a.ms / 1000), p99Ms: a.latencies[Math.floor(a.latencies.length * 0.99)] }
  })
}

/**
 * `flowgate translator` in a Node process of its own (with the semi-space size `pnpm start` gives it), as workerd
 * and Deno are: the client's JSON and base64 then run beside the server's, not on its event loop. Resolves with its
 * URL (from its "listening" log line) and a stop.
 */
async function nodeServiceProcess (): Promise<{ url: string, close: () => Promise<void> }> {
  const index = new URL('../../services/translator/src/index.ts', import.meta.url).href
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', '--input-type=module', '-e', `const { startTranslator } = await import(${JSON.stringify(index)}); await startTranslator({ port: 0 })`], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const close = async (): Promise<void> => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await exited } }
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('the Node translator process did not listen within 15 s')), 15_000)
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const found = /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1]
      if (found !== undefined) { clearTimeout(timer); resolve(found) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the Node translator process exited (${code})`)) })
  }).catch(async (err) => { await close(); throw err })
  return { url, close }
}

/**
 * The translation path: the pure library in process (baseline), the HTTP service, the Web fetch handler, and the
 * edge bundle (edge/build.ts) served over HTTP by workerd (as a Worker) and Deno (Deno.serve), same client and pool.
 */
export const translatorBench: Bench = {
  name: 'translator',
  description: `MQTT → Kafka translation of ${BATCH}-message batches (built-in + user properties, CloudEvents CreateOrRemap, Property key)`,
  async run (log) {
    const messages = Array.from({ length: BATCH }, (_, i) => message(i))
    log('library in process…')
    const baseline = await rate('@flowgate/translate in process', () => translateMqttToKafka(messages, settings, context))
    const service = await startTranslator({ port: 0, logger: pino({ level: 'silent' }) })
    log('HTTP service over a keep-alive pool…')
    const http = await overHttp('translator service over HTTP (undici, keep-alive)', `http://127.0.0.1:${service.port}`)
    await service.close()
    const handler = createFetchHandler()
    log('Web fetch handler in process…')
    const web = await rate('Web fetch handler (edge shape), in process', async () => {
      const res = await handler(new Request('http://edge/translate/v1/mqtt-to-kafka', { method: 'POST', headers: { 'content-type': 'application/json' }, body: wireBody }))
      await res.json()
    })
    const out = mkdtempSync(join(tmpdir(), 'flowgate-edge-bench-'))
    const servers: Array<{ label: string, url: string, close: () => Promise<void> }> = []
    try {
      const build = await buildEdge(out)
      const own = await nodeServiceProcess()
      servers.push({ label: 'translator service, own Node process, HTTP', url: own.url, close: own.close })
      for (const runtime of ['workerd', 'deno'] as EdgeRuntimeName[]) {
        const server = await startEdge(runtime, build)
        servers.push({ label: `edge bundle in ${runtime}, HTTP`, url: server.url, close: server.close })
      }
      log(`HTTP in turns: ${servers.map((x) => x.label).join(' / ')}…`)
      const [nodeProcess, ...edge] = await overHttpInTurns(servers) as [Measurement, ...Measurement[]]
      return {
        baseline,
        candidates: [http, web, nodeProcess, ...edge],
        notes: [
          'HTTP and fetch rates include base64 and JSON both ways; p99 is per batch of 1000',
          `edge bundle (esbuild, validators precompiled): ${build.bytes.toLocaleString('en-US')} bytes, ${build.gzipBytes.toLocaleString('en-US')} gzipped`,
          `edge runtimes against the Node service in its own process, measured in turns in this run (${cpus().length} cores shared by the client and the server): ${edge.map((m) => `${m.label.split(' ')[3]?.replace(',', '') ?? m.label} ${(m.messagesPerSecond / nodeProcess.messagesPerSecond).toFixed(2)}×`).join(', ')}`
        ]
      }
    } finally {
      await Promise.all(servers.map((x) => x.close()))
      rmSync(out, { recursive: true, force: true })
    }
  }
}
