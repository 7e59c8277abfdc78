import { Pool } from 'undici'
import { base64Encode, base64Decode } from '@flowgate/translate'
import type { InboundMqttMessage, OutboundRecord, TranslateToKafka, Translation } from './ports.js'
import { backoffDelay } from './backoff.js'

/**
 * The split deployment's translation: a `TranslateToKafka` that calls the translator service
 * (POST /translate/v1/mqtt-to-kafka, DESIGN §4) over HTTP. The messages asked for in one tick (or up to
 * `maxBatch`) travel in one request; each caller gets its own result back. A request that fails is retried with
 * backoff up to `attempts` times, then every caller's promise rejects: the flow treats that as retriable (the
 * messages wait in its buffer and nothing acknowledged is lost).
 */
export interface RemoteTranslatorOptions {
  /** Base URL of the translator service, e.g. http://translator:8082. */
  url: string
  /** Most messages in one request (the service refuses more than its maxMessages, 10 000 by default). */
  maxBatch: number
  /** Per-request deadline (headers and body). */
  timeoutMs: number
  /** Attempts per batch before its callers see the failure. */
  attempts: number
  retryMinMs: number
  retryMaxMs: number
  /** Pooled keep-alive connections; pipelining stays off (one request per connection at a time). */
  connections: number
}

export const remoteTranslatorDefaults: Omit<RemoteTranslatorOptions, 'url'> = {
  maxBatch: 1000,
  timeoutMs: 5_000,
  attempts: 3,
  retryMinMs: 50,
  retryMaxMs: 1_000,
  connections: 4
}

/** What a dataflow's translations have in common (the request's `endpoint` and `context` minus `now`). */
export interface RemoteTranslateTarget {
  endpoint: Record<string, unknown>
  instanceId: number
  dataflow: string
  destinationTopic: string
  targetName?: string
}

export class RemoteTranslatorError extends Error {
  readonly code = 'FG_ERR_TRANSLATOR_UNAVAILABLE'
  readonly permanent = false
  readonly statusCode: number | undefined
  constructor (message: string, statusCode?: number) {
    super(message)
    this.name = 'RemoteTranslatorError'
    this.statusCode = statusCode
  }
}

interface Waiting { message: InboundMqttMessage, now: number, resolve: (t: Translation) => void, reject: (e: Error) => void }

export interface RemoteTranslator {
  /** A dataflow's `TranslateToKafka`, batching through the shared pool. */
  forDataflow: (target: RemoteTranslateTarget) => TranslateToKafka
  close: () => Promise<void>
}

/** One pool per translator URL, shared by every dataflow of the process. */
export function createRemoteTranslator (opts: Partial<RemoteTranslatorOptions> & { url: string }): RemoteTranslator {
  const options: RemoteTranslatorOptions = { ...remoteTranslatorDefaults, ...opts }
  const base = new URL(options.url)
  const pool = new Pool(base.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 })
  const path = `${base.pathname.replace(/\/$/, '')}/translate/v1/mqtt-to-kafka`
  let closed = false

  async function post (body: string): Promise<{ results: unknown[] }> {
    let last: Error | undefined
    for (let attempt = 0; attempt < options.attempts; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt - 1, options.retryMinMs, options.retryMaxMs)))
      if (closed) break
      try {
        const res = await pool.request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json' },
          body,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs
        })
        const text = await res.body.text()
        if (res.statusCode === 200) return JSON.parse(text) as { results: unknown[] }
        last = new RemoteTranslatorError(`translator answered ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode)
        // A 4xx says the request is wrong: asking again would get the same answer.
        if (res.statusCode >= 400 && res.statusCode < 500) break
      } catch (err) {
        last = new RemoteTranslatorError(`translator unreachable: ${(err as Error).message}`)
      }
    }
    throw last ?? new RemoteTranslatorError('translator client closed')
  }

  return {
    forDataflow (target) {
      let batch: Waiting[] = []
      let scheduled = false
      const flush = (): void => {
        scheduled = false
        const taken = batch.splice(0, options.maxBatch)
        if (batch.length > 0) { scheduled = true; setImmediate(flush) }
        if (taken.length === 0) return
        const body = JSON.stringify({
          endpoint: target.endpoint,
          context: {
            // One `now` per batch: the latest asked for, so Message Expiry never shrinks by less than the wait.
            now: Math.max(...taken.map((w) => w.now)),
            instanceId: target.instanceId,
            dataflow: target.dataflow,
            destinationTopic: target.destinationTopic,
            ...(target.targetName !== undefined ? { targetName: target.targetName } : {})
          },
          messages: taken.map((w) => toWire(w.message))
        })
        post(body).then((answer) => {
          taken.forEach((w, i) => {
            const r = answer.results[i]
            if (r === undefined) w.reject(new RemoteTranslatorError('translator answered fewer results than messages'))
            else w.resolve(fromWire(r as WireResult))
          })
        }, (err: Error) => { for (const w of taken) w.reject(err) })
      }
      return (message, now) => new Promise<Translation>((resolve, reject) => {
        if (closed) return reject(new RemoteTranslatorError('translator client closed'))
        batch.push({ message, now, resolve, reject })
        if (batch.length >= options.maxBatch) { flush(); return }
        if (!scheduled) { scheduled = true; setImmediate(flush) }
      })
    },
    async close () {
      closed = true
      await pool.close()
    }
  }
}

function toWire (m: InboundMqttMessage): Record<string, unknown> {
  const p = m.properties as Record<string, unknown> | undefined
  let properties: Record<string, unknown> | undefined
  if (p !== undefined) {
    properties = {}
    for (const key of ['payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic'] as const) {
      if (p[key] !== undefined) properties[key] = p[key]
    }
    if (p.correlationData !== undefined) properties.correlationData = base64Encode(p.correlationData as Uint8Array)
    const up = p.userProperties as Record<string, string | string[]> | undefined
    if (up !== undefined) properties.userProperties = Object.entries(up).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, String(x)]))
  }
  return {
    topic: m.topic,
    payload: base64Encode(m.payload),
    qos: m.qos,
    retain: m.retain,
    receivedAt: m.receivedAt,
    ...(properties !== undefined ? { properties } : {})
  }
}

type WireResult =
  | { ok: true, record: { topic: string, key: string | null, value: string, headers: Array<[string, string]>, partition?: number } }
  | { ok: false, reason: string, detail?: string }

function fromWire (r: WireResult): Translation {
  if (!r.ok) return { ok: false, reason: r.reason, ...(r.detail !== undefined ? { detail: r.detail } : {}) }
  const bytes = (s: string): Uint8Array => base64Decode(s) ?? new Uint8Array(0)
  const record: OutboundRecord = {
    topic: r.record.topic,
    key: r.record.key === null ? null : bytes(r.record.key),
    value: bytes(r.record.value),
    headers: r.record.headers.map(([k, v]) => [k, bytes(v)]),
    ...(r.record.partition !== undefined ? { partition: r.record.partition } : {})
  }
  return { ok: true, record }
}
