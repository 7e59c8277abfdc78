import t, { type Test } from 'tap'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { startTranslator } from '@flowgate/translator'
import { createRemoteTranslator, type RemoteTranslateTarget } from '../src/remote-translator.js'
import { MqttToKafkaFlow, type PublishOutcome } from '../src/mqtt-to-kafka-flow.js'
import type { InboundMqttMessage, KafkaDestination } from '../src/ports.js'

// What the translator's refusals mean to the remote translator (issue #16 item 8): a 413 splits the batch, a message
// too large alone is dropped as too-large, a 400 is final for the messages it names; 5xx stays retriable; answers
// keep arrival order. Against the real translator service (small limits), with a proxy in front where a test needs
// to see or shape the requests.

const quiet = pino({ level: 'silent' })
const target: RemoteTranslateTarget = { endpoint: { partitionStrategy: 'Property', partitionKeyProperty: 'device' }, instanceId: 0, dataflow: 'df', destinationTopic: 'out' }
const fast = { retryMinMs: 5, retryMaxMs: 10, attempts: 2, timeoutMs: 2000 }

function message (i: number, payloadBytes = 200, properties?: Record<string, unknown>): InboundMqttMessage {
  const text = `m-${i}:`
  return {
    topic: `plant/line${i % 3}`,
    payload: Buffer.from(text.padEnd(Math.max(payloadBytes, text.length), 'x')),
    qos: 1,
    retain: false,
    properties: { userProperties: { device: `d${i % 4}` }, ...properties },
    receivedAt: Date.now()
  }
}

const valueOf = (r: { ok: boolean, record?: { value: Uint8Array } }): string => r.ok ? Buffer.from(r.record!.value).toString().split(':')[0]! : ''

interface Seen { messages: number, bytes: number, status: number, firstPayload: string }

/**
 * A proxy in front of the translator that logs each request (message count, size, status) and may answer instead
 * of it: `answer` returns a status and body, or undefined to pass the request on.
 */
async function proxy (port: number, answer: (messages: Array<{ payload: string }>) => { status: number, body: unknown, delayMs?: number } | undefined = () => undefined): Promise<{ url: string, seen: Seen[], close: () => Promise<void> }> {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const messages = (JSON.parse(body.toString()) as { messages: Array<{ payload: string }> }).messages
      const entry: Seen = { messages: messages.length, bytes: body.length, status: 0, firstPayload: Buffer.from(messages[0]?.payload ?? '', 'base64').toString().split(':')[0]! }
      seen.push(entry)
      const own = answer(messages)
      if (own !== undefined) {
        setTimeout(() => { entry.status = own.status; res.writeHead(own.status, { 'content-type': 'application/json' }).end(JSON.stringify(own.body)) }, own.delayMs ?? 0)
        return
      }
      const up = httpRequest({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
        entry.status = upRes.statusCode ?? 0
        res.writeHead(upRes.statusCode ?? 502, upRes.headers)
        upRes.pipe(res)
      })
      up.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

async function translatorBehindProxy (t: Test, limits: { bodyLimit?: number, maxMessages?: number }, answer?: Parameters<typeof proxy>[1]): Promise<{ url: string, seen: Seen[] }> {
  const service = await startTranslator({ port: 0, logger: quiet, ...limits })
  t.teardown(() => service.close())
  const p = await proxy(service.port, answer)
  t.teardown(() => p.close())
  return p
}

t.test('a 413 splits the batch in halves until the parts fit; every message gets its own translation, in order', async (t) => {
  // ~400 bytes a message on the wire: 40 of them are ~16 KiB, the limit 4 KiB.
  const p = await translatorBehindProxy(t, { bodyLimit: 4096 })
  const remote = createRemoteTranslator({ url: p.url, ...fast })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => await translate(message(i), Date.now())))
  t.same(results.map(valueOf), Array.from({ length: 40 }, (_, i) => `m-${i}`), 'each caller got its own message back')
  t.ok(p.seen[0]!.status === 413 && p.seen[0]!.messages === 40, 'the whole batch was refused first')
  const delivered = p.seen.filter((s) => s.status === 200)
  t.equal(delivered.reduce((n, s) => n + s.messages, 0), 40, 'every message translated exactly once')
  t.same(delivered.map((s) => s.firstPayload), [...delivered.map((s) => s.firstPayload)].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2))), 'parts sent in arrival order')
  t.ok(delivered.every((s) => s.bytes <= 4096), 'every part that went through fits the limit')
  t.comment(`requests: ${p.seen.map((s) => `${s.messages}→${s.status}`).join(' ')}`)

  // The refused size is remembered: the next large batch is split before it is sent, without a 413.
  const before = p.seen.length
  const again = await Promise.all(Array.from({ length: 40 }, async (_, i) => await translate(message(100 + i), Date.now())))
  t.equal(again.filter((r) => r.ok).length, 40)
  t.same(p.seen.slice(before).map((s) => s.status).filter((s) => s !== 200), [], 'no 413 for the next batch')
})

t.test('a message too large alone is dropped as too-large; its batch neighbours are translated', async (t) => {
  const p = await translatorBehindProxy(t, { bodyLimit: 4096 })
  const remote = createRemoteTranslator({ url: p.url, ...fast })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  const results = await Promise.all(Array.from({ length: 12 }, async (_, i) => await translate(message(i, i === 5 ? 8000 : 100), Date.now())))
  const big = results[5]!
  t.match(big, { ok: false, reason: 'too-large', detail: /FG_ERR_TRANSLATOR_BODY_TOO_LARGE/ }, 'the big one is final: too-large, with what the translator said')
  t.same(results.map(valueOf), Array.from({ length: 12 }, (_, i) => i === 5 ? '' : `m-${i}`), 'the others are translated, each its own')
  t.ok(p.seen.length <= 12, `bounded number of requests (${p.seen.length})`)
})

t.test('more messages than the translator\'s maxMessages: split too (413 FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES)', async (t) => {
  const p = await translatorBehindProxy(t, { maxMessages: 4 })
  const remote = createRemoteTranslator({ url: p.url, ...fast })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => await translate(message(i, 20), Date.now())))
  t.same(results.map(valueOf), Array.from({ length: 10 }, (_, i) => `m-${i}`))
  t.ok(p.seen.filter((s) => s.status === 200).every((s) => s.messages <= 4))
})

t.test('a 400 naming messages is final for those, with what the translator said; the others go through', async (t) => {
  const p = await translatorBehindProxy(t, {})
  const remote = createRemoteTranslator({ url: p.url, ...fast })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  // A Payload Format Indicator of 7 and a negative expiry are not MQTT: the translator's schema refuses them.
  const bad: Record<number, Record<string, unknown>> = { 2: { payloadFormatIndicator: 7 }, 6: { messageExpiryInterval: -1 } }
  const results = await Promise.all(Array.from({ length: 9 }, async (_, i) => await translate(message(i, 50, bad[i]), Date.now())))
  t.match(results[2], { ok: false, reason: 'invalid-message', detail: /400 FG_ERR_TRANSLATOR_VALIDATION.*\/properties\/payloadFormatIndicator/ })
  t.match(results[6], { ok: false, reason: 'invalid-message', detail: /\/properties\/messageExpiryInterval/ })
  t.same(results.map(valueOf), ['m-0', 'm-1', '', 'm-3', 'm-4', 'm-5', '', 'm-7', 'm-8'])
  t.same(p.seen.map((s) => [s.messages, s.status]), [[9, 400], [7, 200]], 'one 400, then the rest in one request')
})

t.test('a 400 about the request itself (its endpoint settings) holds every message of it: retriable, saying why', async (t) => {
  const p = await translatorBehindProxy(t, {})
  const remote = createRemoteTranslator({ url: p.url, ...fast })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow({ ...target, endpoint: { partitionStrategy: 'Sideways' } })
  const settled = await Promise.allSettled(Array.from({ length: 5 }, async (_, i) => await translate(message(i, 10), Date.now())))
  for (const s of settled) t.match(s, { status: 'rejected', reason: { code: 'FG_ERR_TRANSLATOR_UNAVAILABLE', permanent: false, message: /refuses this dataflow's settings.*400 FG_ERR_TRANSLATOR_VALIDATION.*\/endpoint\/partitionStrategy/ } })
  t.equal(p.seen.length, 1, 'one request, not asked again at once')
})

t.test('other 4xx (404: a wrong translator URL) hold the messages (retriable, not asked again at once); 5xx is retried up to attempts', async (t) => {
  const service = await startTranslator({ port: 0, logger: quiet })
  t.teardown(() => service.close())
  const wrong = createRemoteTranslator({ url: `http://127.0.0.1:${service.port}/v0`, ...fast })
  t.teardown(() => wrong.close())
  await t.rejects(Promise.resolve(wrong.forDataflow(target)(message(1), Date.now())), { code: 'FG_ERR_TRANSLATOR_UNAVAILABLE', permanent: false, message: /404.*FG_ERR_TRANSLATOR_NOT_FOUND/ })

  let calls = 0
  const p = await translatorBehindProxy(t, {}, () => { calls++; return { status: 503, body: { code: 'BUSY', message: 'try later' } } })
  const remote = createRemoteTranslator({ url: p.url, ...fast, attempts: 3 })
  t.teardown(() => remote.close())
  await t.rejects(Promise.resolve(remote.forDataflow(target)(message(1), Date.now())), { code: 'FG_ERR_TRANSLATOR_UNAVAILABLE', permanent: false, message: /503/ })
  t.equal(calls, 3, 'retried up to attempts')
})

t.test('a retriable failure in a split part: the parts before it are delivered, it and everything after it wait', async (t) => {
  // 16 messages of ~250 wire bytes do not fit 2 KiB; 8 do. Requests holding m-11 answer 503.
  const failing = (messages: Array<{ payload: string }>): boolean => messages.some((m) => Buffer.from(m.payload, 'base64').toString().startsWith('m-11:'))
  const p = await translatorBehindProxy(t, { bodyLimit: 2500 }, (messages) => messages.length <= 8 && failing(messages) ? { status: 503, body: { code: 'DOWN', message: 'down' } } : undefined)
  const remote = createRemoteTranslator({ url: p.url, ...fast })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  const settled = await Promise.allSettled(Array.from({ length: 16 }, async (_, i) => await translate(message(i, 100), Date.now())))
  const fate = settled.map((s) => s.status === 'fulfilled' ? valueOf(s.value) : 'retry')
  const firstRetry = fate.indexOf('retry')
  t.ok(firstRetry > 0 && firstRetry <= 11, `delivered up to the failing part (${fate.join(' ')})`)
  t.ok(fate.slice(0, firstRetry).every((v, i) => v === `m-${i}`), 'what was delivered is the prefix, in order')
  t.ok(fate.slice(firstRetry).every((v) => v === 'retry'), 'everything from the failed part on waits for a retry')
})

t.test('a later batch that succeeded waits behind an earlier one that failed: it is retried too, not delivered ahead', async (t) => {
  // The first request (holding m-0) answers 503 after a while; the second batch's request answers at once.
  const p = await translatorBehindProxy(t, {}, (messages) => Buffer.from(messages[0]!.payload, 'base64').toString().startsWith('m-0:') ? { status: 503, body: { code: 'DOWN', message: 'down' }, delayMs: 150 } : undefined)
  const remote = createRemoteTranslator({ url: p.url, ...fast, attempts: 1 })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  const first = Array.from({ length: 3 }, async (_, i) => await translate(message(i, 10), Date.now()))
  await new Promise((resolve) => setImmediate(resolve))
  const second = Array.from({ length: 3 }, async (_, i) => await translate(message(10 + i, 10), Date.now()))
  const fates = (await Promise.allSettled([...first, ...second])).map((s) => s.status)
  t.same(fates, Array(6).fill('rejected'), 'both batches wait (retriable), the second behind the first')
  t.ok(p.seen.some((s) => s.firstPayload === 'm-10' && s.status === 200), 'the second batch had been translated')
  // Once everything in flight was handed out, the next batch starts afresh.
  t.equal(valueOf(await translate(message(20, 10), Date.now())), 'm-20')
})

t.test('a flow fed through the remote translator after an outage drains instead of retrying one refused batch forever', async (t) => {
  const p = await translatorBehindProxy(t, { bodyLimit: 8192 })
  const remote = createRemoteTranslator({ url: p.url, ...fast })
  t.teardown(() => remote.close())
  const sent: string[] = []
  const destination: KafkaDestination = {
    send (record, done) { sent.push(Buffer.from(record.value).toString().split(':')[0]!); setImmediate(() => done(null, { partition: 0, offset: String(sent.length) })) },
    async close () {}
  }
  const dropped: string[] = []
  const flow = new MqttToKafkaFlow({
    name: 'df', namespace: 'default', filters: ['plant/#'], translate: remote.forDataflow(target), destination,
    observer: { dropped: (_m, reason) => dropped.push(reason) },
    options: { retryMinMs: 5, retryMaxMs: 20 }
  })
  // 500 messages queued at once (one tick's batch ~200 KiB), one of them too large for the translator alone.
  const outcomes: Array<Promise<PublishOutcome>> = []
  for (let i = 0; i < 500; i++) outcomes.push(flow.accept(message(i, i === 123 ? 9000 : 200)))
  let expire = (): void => {}
  const timer = setTimeout(() => expire(), 20_000)
  const settled = await Promise.race([Promise.all(outcomes), new Promise<undefined>((resolve) => { expire = () => resolve(undefined) })])
  clearTimeout(timer)
  t.ok(settled !== undefined, 'every publish settled')
  t.same(settled?.[123], { reasonCode: 0x97, reasonString: settled?.[123]?.reasonString }, 'the too-large one is refused to the device (0x97 quota exceeded)')
  t.match(settled?.[123]?.reasonString, /^too-large: /)
  t.equal(settled?.filter((o) => o.reasonCode === undefined).length, 499, 'the others are acknowledged')
  t.same(dropped, ['too-large'])
  t.same(sent, Array.from({ length: 500 }, (_, i) => `m-${i}`).filter((v) => v !== 'm-123'), 'sent once each, in arrival order')
  await flow.close(1000)
})
