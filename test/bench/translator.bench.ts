import { Pool } from 'undici'
import { pino } from 'pino'
import { translateMqttToKafka, type MqttMessage } from '@flowgate/translate'
import { startTranslator, createFetchHandler } from '@flowgate/translator'
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

/** The translation path three ways: the pure library in process (baseline), the HTTP service, the Web fetch handler. */
export const translatorBench: Bench = {
  name: 'translator',
  description: `MQTT → Kafka translation of ${BATCH}-message batches (built-in + user properties, CloudEvents CreateOrRemap, Property key)`,
  async run (log) {
    const messages = Array.from({ length: BATCH }, (_, i) => message(i))
    log('library in process…')
    const baseline = await rate('@flowgate/translate in process', () => translateMqttToKafka(messages, settings, context))
    const service = await startTranslator({ port: 0, logger: pino({ level: 'silent' }) })
    const pool = new Pool(`http://127.0.0.1:${service.port}`, { connections: 4, pipelining: 1 })
    log('HTTP service over a keep-alive pool…')
    const http = await rate('translator service over HTTP (undici, keep-alive)', async () => {
      const res = await pool.request({ path: '/translate/v1/mqtt-to-kafka', method: 'POST', headers: { 'content-type': 'application/json' }, body: wireBody })
      await res.body.json()
    })
    await pool.close()
    await service.close()
    const handler = createFetchHandler()
    log('Web fetch handler in process…')
    const web = await rate('Web fetch handler (edge shape), in process', async () => {
      const res = await handler(new Request('http://edge/translate/v1/mqtt-to-kafka', { method: 'POST', headers: { 'content-type': 'application/json' }, body: wireBody }))
      await res.json()
    })
    return { baseline, candidates: [http, web], notes: ['HTTP and fetch rates include base64 and JSON both ways; p99 is per batch of 1000'] }
  }
}
