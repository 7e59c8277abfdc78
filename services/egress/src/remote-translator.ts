import { Pool } from 'undici'
import { base64Encode, base64Decode } from '@flowgate/translate'
import type { InboundMqttMessage, OutboundRecord, TranslateToKafka, Translation } from './ports.js'
import { backoffDelay } from './backoff.js'

/**
 * The split deployment's translation: a `TranslateToKafka` that calls the translator service
 * (POST /translate/v1/mqtt-to-kafka, DESIGN §4) over HTTP. The messages asked for in one tick (or up to
 * `maxBatch`) travel in one request; each caller gets its own result back.
 *
 * What the translator answers decides each message's fate:
 * - 200: each message's own translation (a translation can itself be a drop, e.g. `invalid-topic`).
 * - 413 (body or message count over the service's limits): the batch is halved and the halves sent, recursively;
 *   a single message that alone is refused is dropped as `too-large` (as Kafka's MESSAGE_TOO_LARGE). The byte size
 *   refused is remembered for a while, so the next large batches are split before being sent.
 * - 400 naming messages (`/messages/<i>/…`): those messages are dropped as `invalid-message` with what the
 *   translator said; the others are sent again without them. A 400 naming no message is narrowed down by halving;
 *   one about the whole request (`/endpoint`, `/context`) and the other 4xx (404, 415…) drop every message of the
 *   request as `rejected`, with the translator's code and message.
 * - 5xx, 408, 429, a timeout or no connection: retried with backoff up to `attempts` times, then the callers'
 *   promises reject: the flow treats that as retriable (the messages wait in its buffer, nothing acknowledged is
 *   lost).
 *
 * Order: a dataflow's answers are handed out in arrival order. Once a message's translation failed retriably, every
 * later one asked for before that failure was handed out fails too (even if the translator did translate it), so
 * the flow retries them all, in order, behind it: no message overtakes an earlier one that waits for a retry.
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
  /** How long a 413's size (bytes, or message count) is remembered to split larger batches before sending them. */
  limitMemoryMs: number
}

export const remoteTranslatorDefaults: Omit<RemoteTranslatorOptions, 'url'> = {
  maxBatch: 1000,
  timeoutMs: 5_000,
  attempts: 3,
  retryMinMs: 50,
  retryMaxMs: 1_000,
  connections: 4,
  limitMemoryMs: 60_000
}

/** What a dataflow's translations have in common (the request's `endpoint` and `context` minus `now`). */
export interface RemoteTranslateTarget {
  endpoint: Record<string, unknown>
  instanceId: number
  dataflow: string
  destinationTopic: string
  targetName?: string
}

/** The translator could not answer (down, 5xx, timeout): retriable. */
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

/** A message's outcome: its translation (possibly a drop), or the retriable failure it waits behind. */
type Outcome = Translation | RemoteTranslatorError

/** What the translator said when it refused a request (its error body, `{code, message, errors?}`). */
interface Refusal { status: number, code: string | undefined, message: string, errors: Array<{ path: string, message: string }> }

type Answer =
  | { kind: 'ok', results: unknown[] }
  | { kind: 'refused', refusal: Refusal }
  | { kind: 'unavailable', error: RemoteTranslatorError }

export interface RemoteTranslator {
  /** A dataflow's `TranslateToKafka`, batching through the shared pool. */
  forDataflow: (target: RemoteTranslateTarget) => TranslateToKafka
  close: () => Promise<void>
}

/** Statuses that say "not now" rather than "not this request". */
const RETRIABLE_4XX = new Set([408, 429])

/** One pool per translator URL, shared by every dataflow of the process. */
export function createRemoteTranslator (opts: Partial<RemoteTranslatorOptions> & { url: string }): RemoteTranslator {
  const options: RemoteTranslatorOptions = { ...remoteTranslatorDefaults, ...opts }
  const base = new URL(options.url)
  const pool = new Pool(base.origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 })
  const path = `${base.pathname.replace(/\/$/, '')}/translate/v1/mqtt-to-kafka`
  let closed = false
  // The smallest request refused with a 413 (bytes; message count for FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES), for a while.
  const refused = { bytes: Infinity, bytesAt: 0, count: Infinity, countAt: 0 }

  function tooBig (bytes: number, count: number): boolean {
    const now = Date.now()
    if (refused.bytes !== Infinity && now - refused.bytesAt > options.limitMemoryMs) refused.bytes = Infinity
    if (refused.count !== Infinity && now - refused.countAt > options.limitMemoryMs) refused.count = Infinity
    return bytes >= refused.bytes || count >= refused.count
  }

  async function post (body: string): Promise<Answer> {
    let last: RemoteTranslatorError | undefined
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
        if (res.statusCode === 200) {
          const answer = JSON.parse(text) as { results?: unknown }
          if (!Array.isArray(answer.results)) throw new Error('the answer has no results list')
          return { kind: 'ok', results: answer.results }
        }
        // 400 and 413 are about this request's messages: answered below (dropped, split), asking again would not help.
        if (res.statusCode === 400 || res.statusCode === 413) return { kind: 'refused', refusal: refusalOf(res.statusCode, text) }
        last = new RemoteTranslatorError(`translator answered ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode)
        // Any other 4xx (a wrong --translator URL, a translator of another version) is the deployment's, not the
        // messages': they wait, as when the translator is down, until someone fixes it — not asked again at once.
        if (res.statusCode >= 400 && res.statusCode < 500 && !RETRIABLE_4XX.has(res.statusCode)) break
      } catch (err) {
        last = new RemoteTranslatorError(`translator unreachable: ${(err as Error).message}`)
      }
    }
    return { kind: 'unavailable', error: last ?? new RemoteTranslatorError('translator client closed') }
  }

  return {
    forDataflow (target) {
      const head = (items: readonly Waiting[]): string => JSON.stringify({
        endpoint: target.endpoint,
        context: {
          // One `now` per request: the latest asked for, so Message Expiry never shrinks by less than the wait.
          now: Math.max(...items.map((w) => w.now)),
          instanceId: target.instanceId,
          dataflow: target.dataflow,
          destinationTopic: target.destinationTopic,
          ...(target.targetName !== undefined ? { targetName: target.targetName } : {})
        }
      }).slice(0, -1)

      /**
       * The outcomes of `items` (their wire forms in `wires`), in order. Parts of a split go one after the other: once
       * one fails retriably the rest are not sent and fail with it.
       */
      async function translateAll (items: Waiting[], wires: string[]): Promise<Outcome[]> {
        const body = `${head(items)},"messages":[${wires.join(',')}]}`
        const bytes = Buffer.byteLength(body)
        if (items.length > 1 && tooBig(bytes, items.length)) return await halves(items, wires)
        const answer = await post(body)
        if (answer.kind === 'unavailable') return items.map(() => answer.error)
        if (answer.kind === 'ok') {
          if (bytes >= refused.bytes) refused.bytes = Infinity // the limit went up
          const outcomes: Outcome[] = []
          for (let i = 0; i < items.length; i++) {
            const r = answer.results[i]
            outcomes.push(r === undefined ? new RemoteTranslatorError('translator answered fewer results than messages') : fromWire(r as WireResult))
          }
          return outcomes
        }
        const { refusal } = answer
        if (refusal.status === 413) {
          if (items.length === 1) {
            return [{ ok: false, reason: 'too-large', detail: `the translator refuses the message alone (a ${bytes}-byte request): ${said(refusal)}` }]
          }
          if (refusal.code === 'FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES') {
            if (items.length < refused.count) { refused.count = items.length; refused.countAt = Date.now() }
          } else if (bytes < refused.bytes) { refused.bytes = bytes; refused.bytesAt = Date.now() }
          return await halves(items, wires)
        }
        if (refusal.status === 400) {
          const named = messagesNamed(refusal, items.length)
          if (named.size > 0) {
            // Those messages are final; the others go again without them.
            const rest = items.map((_, i) => i).filter((i) => !named.has(i))
            const again = rest.length > 0 ? await translateAll(rest.map((i) => items[i]!), rest.map((i) => wires[i]!)) : []
            const outcomes: Outcome[] = []
            for (let i = 0, k = 0; i < items.length; i++) {
              const errors = named.get(i)
              outcomes.push(errors !== undefined ? { ok: false, reason: 'invalid-message', detail: `the translator refused it (${refusal.status}${refusal.code !== undefined ? ` ${refusal.code}` : ''}): ${errors}` } : again[k++]!)
            }
            return outcomes
          }
          // About the request itself (the endpoint's settings, the context): the deployment's problem, as above.
          if (refusal.errors.some((e) => /^\/(endpoint|context)(\/|$)/.test(e.path))) {
            const held = new RemoteTranslatorError(`the translator refuses this dataflow's settings: ${said(refusal)}`, 400)
            return items.map(() => held)
          }
          // Not said which: narrow it down to the message.
          if (items.length > 1) return await halves(items, wires)
        }
        const dropped: Translation = { ok: false, reason: 'invalid-message', detail: `the translator refused it: ${said(refusal)}` }
        return items.map(() => dropped)
      }

      async function halves (items: Waiting[], wires: string[]): Promise<Outcome[]> {
        const mid = Math.ceil(items.length / 2)
        const first = await translateAll(items.slice(0, mid), wires.slice(0, mid))
        const failed = first.find((o) => o instanceof RemoteTranslatorError)
        if (failed !== undefined) return [...first, ...items.slice(mid).map(() => failed)]
        return [...first, ...await translateAll(items.slice(mid), wires.slice(mid))]
      }

      // Answers are handed out batch after batch, in arrival order; `broken` is the retriable failure that the
      // batches still in the chain fail behind. Nothing in the chain: the next batch starts afresh.
      let chain: Promise<void> = Promise.resolve()
      let inChain = 0
      let broken: RemoteTranslatorError | undefined
      let batch: Waiting[] = []
      let scheduled = false
      const flush = (): void => {
        scheduled = false
        const taken = batch.splice(0, options.maxBatch)
        if (batch.length > 0) { scheduled = true; setImmediate(flush) }
        if (taken.length === 0) return
        // Whatever goes wrong here leaves the messages waiting (retriable), never a promise unsettled.
        const outcomes = Promise.resolve()
          .then(async () => await translateAll(taken, taken.map((w) => JSON.stringify(toWire(w.message)))))
          .catch((err: Error) => taken.map(() => new RemoteTranslatorError(`translating the batch failed: ${err.message}`)))
        inChain++
        chain = chain.then(async () => {
          const out = await outcomes
          taken.forEach((w, i) => {
            const o = out[i]!
            if (broken === undefined && o instanceof RemoteTranslatorError) broken = o
            if (broken !== undefined) w.reject(broken)
            else w.resolve(o as Translation)
          })
          if (--inChain === 0) broken = undefined
        })
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

function refusalOf (status: number, text: string): Refusal {
  try {
    const body = JSON.parse(text) as { code?: unknown, message?: unknown, errors?: unknown }
    const errors = Array.isArray(body.errors)
      ? body.errors.filter((e): e is { path: string, message: string } => typeof e?.path === 'string').map((e) => ({ path: e.path, message: String(e.message ?? '') }))
      : []
    return { status, code: typeof body.code === 'string' ? body.code : undefined, message: typeof body.message === 'string' ? body.message : text.slice(0, 200), errors }
  } catch {
    return { status, code: undefined, message: text.slice(0, 200), errors: [] }
  }
}

/** "413 FG_ERR_…: message" (the field errors too, at most a few). */
function said (r: Refusal): string {
  const fields = r.errors.slice(0, 5).map((e) => `${e.path === '' ? '(body)' : e.path}: ${e.message}`).join('; ')
  return `${r.status}${r.code !== undefined ? ` ${r.code}` : ''}: ${r.message}${fields !== '' ? ` (${fields})` : ''}`
}

/** The messages a 400's field errors name (`/messages/<i>/…`), each with what was said of it, paths made relative. */
function messagesNamed (r: Refusal, count: number): Map<number, string> {
  const named = new Map<number, string>()
  for (const e of r.errors) {
    const m = /^\/messages\/(\d+)(\/.*)?$/.exec(e.path)
    if (m === null) continue
    const i = Number(m[1])
    if (i >= count) continue
    const text = `${m[2] ?? '(message)'}: ${e.message}`
    const seen = named.get(i)
    named.set(i, seen === undefined ? text : `${seen}; ${text}`)
  }
  return named
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
