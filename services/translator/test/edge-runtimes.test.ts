// The edge bundle (edge/build.ts: one ES module, validators compiled ahead of time) served by the real runtimes
// from npm, workerd as an ES module Worker and Deno with Deno.serve: the same held vectors as the Node service,
// answered exactly as the in-process Node fetch handler answers them; the same bad-request answers; and the egress'
// remote translator client (what `flowgate egress --translator URL` uses) translating through each runtime.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { translateMqttMessage, type MqttMessage } from '@flowgate/translate'
import { createFetchHandler } from '../src/fetch-handler.js'
import { startTranslator } from '../src/translator.js'
import { buildEdge, runtimeBinary, startEdge, type EdgeBuild, type EdgeRuntimeName, type EdgeServer } from '../edge/index.js'
// The egress' client, from its source: the egress depends on the translator, not the other way round.
import { createRemoteTranslator, type InboundMqttMessage, type RemoteTranslateTarget } from '../../egress/src/index.js'
import { b64, fixedUUID, quiet } from './helpers.js'
import { K2M, M2K, invalidBodies, kafkaToMqttCase, manyMessages, mqttToKafkaCase, murmur2Cases, staticCase } from './vectors.js'

const BODY_LIMIT = 256 * 1024
const MAX_MESSAGES = 1000
const env = { FLOWGATE_TRANSLATOR_BODY_LIMIT: String(BODY_LIMIT), FLOWGATE_TRANSLATOR_MAX_MESSAGES: String(MAX_MESSAGES) }
const reference = createFetchHandler({ bodyLimit: BODY_LIMIT, maxMessages: MAX_MESSAGES, randomUUID: fixedUUID })

interface Answer { status: number, body: any }
const init = (body: unknown, extra?: RequestInit): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...extra
})
async function node (path: string, body: unknown, extra?: RequestInit): Promise<Answer> {
  const r = await reference(new Request(`http://translator.invalid${path}`, init(body, extra)))
  return { status: r.status, body: await r.json() }
}
async function edge (server: EdgeServer, path: string, body: unknown, extra?: RequestInit): Promise<Answer> {
  const r = await fetch(`${server.url}${path}`, { ...init(body, extra), signal: AbortSignal.timeout(10_000) })
  return { status: r.status, body: await r.json() }
}

// CloudEvents ids are random in a runtime (crypto.randomUUID) and fixed in the reference: a v4 UUID becomes the fixed one.
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
function withFixedIds (answer: Answer): Answer {
  const results = (answer.body as { results?: Array<{ record?: { headers: Array<[string, string]> } }> }).results
  if (results === undefined) return answer
  return {
    ...answer,
    body: {
      ...answer.body,
      results: results.map((r) => r.record === undefined
        ? r
        : { ...r, record: { ...r.record, headers: r.record.headers.map(([n, v]) => n === 'ce-id' && UUID_V4.test(atob(v)) ? [n, b64(fixedUUID())] : [n, v]) } })
    }
  }
}

const onThisPlatform = process.platform === 'linux' && process.arch === 'x64'
const runtimes: EdgeRuntimeName[] = ['workerd', 'deno']
// The binaries come from npm for Linux x64 only: elsewhere a missing one is a skip, here it is a failure.
const skipped = new Map(runtimes.flatMap((r) => {
  const bin = runtimeBinary(r)
  return 'missing' in bin && !onThisPlatform ? [[r, bin.missing] as const] : []
}))

const out = mkdtempSync(join(tmpdir(), 'flowgate-edge-'))
let build: EdgeBuild
const servers = new Map<EdgeRuntimeName, EdgeServer>()
t.before(async () => {
  build = await buildEdge(out)
  await Promise.all(runtimes.filter((r) => !skipped.has(r)).map(async (r) => { servers.set(r, await startEdge(r, build, env)) }))
})
t.teardown(async () => {
  await Promise.all([...servers.values()].map((s) => s.close()))
  rmSync(out, { recursive: true, force: true })
})

t.test('the bundle is one ES module with no Node built-in, no code generation and no ajv compiler', async (t) => {
  const code = readFileSync(build.bundle, 'utf8')
  t.comment(`bundle ${build.bytes} bytes, ${build.gzipBytes} gzipped, ${build.inputs.length} source files`)
  t.notMatch(code, /\bfrom\s*["'](node:|[a-z_]+["'])/, 'imports nothing')
  t.notMatch(code, /\bimport\s*\(|\brequire\s*\(/, 'no dynamic import or require')
  t.notMatch(code, /new Function|\beval\s*\(/, 'no code generation')
  t.match(code, /export\s*\{[^}]*as default/, 'a default export (the Worker)')
  t.same(build.inputs.filter((i) => i.includes('node_modules')), [], 'no package code beside the precompiled validators')
  t.ok(build.inputs.includes('flowgate-precompiled:precompiled-validators.mjs'))
  t.ok(build.bytes < 200_000, `${build.bytes} bytes`)
})

for (const runtime of runtimes) {
  const skip = skipped.get(runtime)
  const running = (): EdgeServer => {
    const server = servers.get(runtime)
    if (server === undefined) throw new Error(`${runtime} did not start`)
    return server
  }

  t.test(`${runtime}: the held vectors answer exactly as the Node fetch handler does`, { skip: skip ?? false }, async (t) => {
    const server = running()
    const m2k = mqttToKafkaCase()
    const nodeM2k = await node(M2K, m2k.body)
    t.same(nodeM2k, { status: 200, body: { results: m2k.expected } }, 'the reference is the library')
    const edgeM2k = await edge(server, M2K, m2k.body)
    t.same(withFixedIds(edgeM2k), nodeM2k, 'MQTT → Kafka, every rule')
    t.not(JSON.stringify(edgeM2k), JSON.stringify(nodeM2k), 'CloudEvents ids were made in the runtime')

    const k2m = kafkaToMqttCase()
    const nodeK2m = await node(K2M, k2m.body)
    t.same(nodeK2m, { status: 200, body: { results: k2m.expected } })
    t.same(await edge(server, K2M, k2m.body), nodeK2m, 'Kafka → MQTT, every rule')

    for (const { partitions: n, vectors, body } of murmur2Cases()) {
      const answer = await edge(server, M2K, body)
      t.same(answer, await node(M2K, body), `Kafka's murmur2 vectors over ${n} partitions`)
      const wrong = vectors.filter((v, i) => v.key !== '' && answer.body.results[i].record.partition !== v.partitions[n])
      t.same(wrong, [], `every keyed vector on Kafka's partition of ${n}`)
    }
    t.same(await edge(server, M2K, staticCase.body), { status: 200, body: { results: staticCase.expected } }, 'Static answers staticPartitionOf')
  })

  t.test(`${runtime}: bad requests answer as in Node — 400 with JSON paths, 413, 415, 404`, { skip: skip ?? false }, async (t) => {
    const server = running()
    for (const [name, { path, body }] of Object.entries(invalidBodies)) {
      const answer = await edge(server, path, body)
      t.equal(answer.status, 400, name)
      t.equal(answer.body.code, 'FG_ERR_TRANSLATOR_VALIDATION')
      t.same(answer, await node(path, body), `${name}: the same paths, messages and allowed values`)
    }
    const many = manyMessages(MAX_MESSAGES + 1)
    const tooMany = await edge(server, M2K, many)
    t.same([tooMany.status, tooMany.body.code], [413, 'FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES'])
    t.same(tooMany, await node(M2K, many))
    t.equal((await edge(server, M2K, manyMessages(MAX_MESSAGES))).status, 200, 'exactly maxMessages is fine')

    const large = { endpoint: {}, context: { now: 0, instanceId: 0, dataflow: 'df', destinationTopic: 'out' }, messages: [{ topic: 'a', payload: 'QUFB'.repeat(BODY_LIMIT / 4 + 100) }] }
    const tooLarge = await edge(server, M2K, large)
    t.same([tooLarge.status, tooLarge.body.code], [413, 'FG_ERR_TRANSLATOR_BODY_TOO_LARGE'], 'a declared length over the limit')
    t.same(tooLarge, await node(M2K, large))
    // No declared length: the limit is found while reading the stream.
    const text = new TextEncoder().encode(JSON.stringify(large))
    const streamed = new ReadableStream<Uint8Array>({
      start (c) {
        for (let at = 0; at < text.byteLength; at += 16_384) c.enqueue(text.subarray(at, at + 16_384))
        c.close()
      }
    })
    const chunked = await edge(server, M2K, '', { body: streamed, duplex: 'half' } as RequestInit)
    t.same([chunked.status, chunked.body.code], [413, 'FG_ERR_TRANSLATOR_BODY_TOO_LARGE'], 'a streamed body over the limit')

    const textPlain = { headers: { 'content-type': 'text/plain' } }
    t.same(await edge(server, M2K, 'hello', textPlain), await node(M2K, 'hello', textPlain), '415 for text/plain')
    t.equal((await edge(server, M2K, 'hello', textPlain)).status, 415)
    const badJson = await edge(server, M2K, '{"endpoint":')
    // The parser's own words differ between V8 versions; the status and code do not.
    t.same([badJson.status, badJson.body.code], [400, 'FG_ERR_TRANSLATOR_BAD_JSON'])
    t.same(await edge(server, '/translate/v2/mqtt-to-kafka', {}), await node('/translate/v2/mqtt-to-kafka', {}), '404 for an unknown path')
    const get = await fetch(`${server.url}${M2K}`)
    t.same([get.status, (await get.json() as { code: string }).code], [404, 'FG_ERR_TRANSLATOR_NOT_FOUND'], 'GET is not a translate call')
  })
}

// What `flowgate egress --translator URL` does with the URL: its remote translator client, batching per tick.
const target: RemoteTranslateTarget = { endpoint: { partitionStrategy: 'Property', partitionKeyProperty: 'device', copyMqttProperties: 'Enabled' }, instanceId: 3, dataflow: 'df', destinationTopic: 'out-${inputTopic.2}' }
function inbound (i: number): InboundMqttMessage {
  return {
    topic: `plant/line${i % 3}`,
    payload: Buffer.from(`payload-${i}`),
    qos: 1,
    retain: false,
    properties: { contentType: 'text/plain', messageExpiryInterval: 60, correlationData: Buffer.from([0, 255, i]), userProperties: { device: `d${i}`, tag: ['a', 'b'] } },
    receivedAt: 1_700_000_000_000 - (i % 7 === 0 ? 120_000 : 0)
  }
}
const asLibraryMessage = (m: InboundMqttMessage, i: number): MqttMessage => ({ ...m, properties: { ...m.properties, userProperties: [['device', `d${i}`], ['tag', 'a'], ['tag', 'b']] } }) as unknown as MqttMessage
const hex = (b: Uint8Array | null | undefined): string | null => b == null ? null : Buffer.from(b).toString('hex')
const comparable = (r: Awaited<ReturnType<ReturnType<ReturnType<typeof createRemoteTranslator>['forDataflow']>>> | ReturnType<typeof translateMqttMessage>): unknown => !r.ok
  ? { ok: false, reason: r.reason }
  : { ok: true, topic: r.record.topic, key: hex(r.record.key), value: hex(r.record.value), headers: r.record.headers.map(([k, v]) => [k, hex(v)]), partition: r.record.partition }

t.test('the egress remote translator (flowgate egress --translator URL) translates through each runtime as in process', async (t) => {
  const service = await startTranslator({ port: 0, logger: quiet })
  t.teardown(() => service.close())
  const now = 1_700_000_001_000
  const count = 200
  const local = Array.from({ length: count }, (_, i) => comparable(translateMqttMessage(asLibraryMessage(inbound(i), i), target.endpoint as never, { now, instanceId: 3, dataflow: 'df', destinationTopic: target.destinationTopic })))
  t.match(local, Array.from({ length: count }, (_, i) => ({ ok: i % 7 !== 0 })), 'some expired, the rest translated')
  const urls: Array<[string, string]> = [['Node service', `http://127.0.0.1:${service.port}`], ...[...servers.values()].map((s) => [s.runtime, s.url] as [string, string])]
  for (const [name, url] of urls) {
    const remote = createRemoteTranslator({ url, maxBatch: 64 })
    const translate = remote.forDataflow(target)
    const results = await Promise.all(Array.from({ length: count }, (_, i) => translate(inbound(i), now)))
    await remote.close()
    t.same(results.map(comparable), local, `${name}: ${count} messages in batches of 64, each as in process`)
  }
})
