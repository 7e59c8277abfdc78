import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import {
  rig, createTopic, uniqueTopic, kcatConsume, eventually, manifests, kafkaEndpoint, dataflow, startDeviceLoad, checkAgainstKafka,
  reportFault, checkLedger, freePort, startTestPostgres, type AdminClient
} from '@flowgate/testkit'
// PostgreSQL as the shared store: the egress writes the dataflow's status (its ledger) back, and the admin API shows it.

// The split deployment (admin and egress on PostgreSQL, ingress, translator as separate processes) while the
// translator refuses large requests with 413 — and, for a moment, is unavailable (503), so the egress builds a backlog
// and then sends it in batches far over the limit, as after an outage. Devices (MQTT 5 and 3.1.1) publish QoS 1
// sequence numbers at ~600 msg/s. The egress must split what is refused instead of retrying it forever: afterwards
// every acknowledged message is in Kafka, each key's sequence in order; a message too large on its own is refused
// to its device as too-large; the dataflow's ledger balances.

const r = await rig()
const CLI = join(process.cwd(), 'services/cli/bin/flowgate.mjs')
const TOKEN = 'translator-fault-token-0123456789abcdef'
const SECRET_KEY = randomBytes(32).toString('base64')
/** What the translator (its proxy) accepts at most: a few dozen of the devices' messages. */
const LIMIT = 8 * 1024
const devices = [
  { clientId: 'v5-a', protocolVersion: 5 as const }, { clientId: 'v5-b', protocolVersion: 5 as const },
  { clientId: 'v3-a', protocolVersion: 4 as const }, { clientId: 'v3-b', protocolVersion: 4 as const }
]

function service (t: { teardown: (fn: () => Promise<void>) => void }, args: string[], log: string[]): ChildProcess {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FLOWGATE_ADMIN_TOKEN: TOKEN, FLOWGATE_SECRET_KEY: SECRET_KEY, FLOWGATE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout!.on('data', (b: Buffer) => log.push(b.toString()))
  proc.stderr!.on('data', (b: Buffer) => log.push(b.toString()))
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      await new Promise((resolve) => proc.once('exit', resolve))
    }
  })
  return proc
}

function adminClient (port: number): AdminClient {
  const base = `http://127.0.0.1:${port}`
  const headers = { authorization: `Bearer ${TOKEN}` }
  return {
    base,
    async apply (yaml) {
      const res = await fetch(`${base}/api/v1/apply`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: yaml })
      return { status: res.status, body: await res.json() }
    },
    async get (path) {
      const res = await fetch(`${base}${path}`, { headers })
      return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() }
    }
  }
}

/**
 * In front of the translator: 413 (the translator's own error body) for a request over `LIMIT` bytes, 503 while
 * `down`, otherwise passed on. Counts what it answered.
 */
async function limitingProxy (translatorPort: number): Promise<{ url: string, down: boolean, counts: Record<string, number>, largestRefused: number, close: () => Promise<void> }> {
  const state = { down: false, counts: {} as Record<string, number>, largestRefused: 0 }
  const count = (what: string): void => { state.counts[what] = (state.counts[what] ?? 0) + 1 }
  const server = createServer((req, res) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > LIMIT) {
      // As fastify does: refused on the declared length, the body not read.
      count('413')
      state.largestRefused = Math.max(state.largestRefused, declared)
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' })
      res.end(JSON.stringify({ code: 'FG_ERR_TRANSLATOR_BODY_TOO_LARGE', message: `the request body is larger than ${LIMIT} bytes: send fewer or smaller messages per request` }))
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (state.down) {
        count('503')
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'UNAVAILABLE', message: 'the translator is restarting' }))
        return
      }
      const up = httpRequest({ host: '127.0.0.1', port: translatorPort, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
        count(String(upRes.statusCode))
        res.writeHead(upRes.statusCode ?? 502, upRes.headers)
        upRes.pipe(res)
      })
      up.on('error', () => { count('502'); res.writeHead(502).end() })
      up.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  })
}

t.test('the translator answers 413 for large requests (and is down for a moment): every acknowledged message in Kafka, in order', { timeout: 120_000 }, async (t) => {
  const pg = await startTestPostgres()
  t.teardown(() => pg.stop())
  const store = await pg.createDatabase()
  const topic = uniqueTopic('fault-translator')
  await createTopic(topic, 3)
  const [adminPort, mqttPort, ingressHttp, translatorPort, egressHttp] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()]
  const dirs = [await mkdtemp(join(tmpdir(), 'fg-tr-admin-')), await mkdtemp(join(tmpdir(), 'fg-tr-egress-'))] as const
  t.teardown(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })
  const log: string[] = []
  service(t, ['admin', '--http-port', String(adminPort), '--store', store, '--data-dir', dirs[0], '--mqtt-host', `127.0.0.1:${mqttPort}`], log)
  // No grace period: this test starts the egress itself, and measures from the first publish.
  service(t, ['ingress', '--mqtt-port', String(mqttPort), '--http-port', String(ingressHttp), '--egress-grace-seconds', '0'], log)
  service(t, ['translator', '--port', String(translatorPort)], log)
  for (const port of [adminPort, ingressHttp, translatorPort]) {
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined, 30_000, `service on ${port}: ${log.join('')}`)
  }
  const proxy = await limitingProxy(translatorPort)
  t.teardown(() => proxy.close())

  const admin = adminClient(adminPort)
  const applied = await admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs: 5, maxMessages: 500 } } }),
    dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  ))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  // --shared: the egress subscribes through a share group, so the ingress holds each device's PUBACK until the egress
  // acknowledged the message (Kafka has it, or it was dropped for good, with its reason code).
  service(t, ['egress', '--store', store, '--data-dir', dirs[1], '--mqtt', `mqtt://127.0.0.1:${mqttPort}`, '--translator', proxy.url, '--shared', '--http-port', String(egressHttp)], log)
  await eventually(async () => {
    const { body } = await admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/load')
    return body.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True' ? true : undefined
  }, 30_000, `the dataflow Ready: ${log.join('')}`)
  await eventually(async () => ((await (await fetch(`http://127.0.0.1:${ingressHttp}/readyz`)).json()) as { clients: number }).clients >= 1 ? true : undefined, 20_000, 'the egress connected to the ingress')
  await new Promise((resolve) => setTimeout(resolve, 300))

  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${mqttPort}`, prefix: 'load', devices, rate: 150, window: 200 })
  t.teardown(() => load.close())
  await new Promise((resolve) => setTimeout(resolve, 2000))
  // An outage: the egress holds what arrives (the devices' windows fill), then sends the backlog at once.
  proxy.down = true
  await new Promise((resolve) => setTimeout(resolve, 2500))
  proxy.down = false
  await new Promise((resolve) => setTimeout(resolve, 2000))
  // One message too large for the translator on its own, from an MQTT 5 device: refused to it as too-large.
  const big = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5, clientId: 'v5-big', reconnectPeriod: 0 })
  t.teardown(() => big.endAsync(true))
  // Bounded: a flow stuck retrying the refused request would never answer it.
  let giveUp = (): void => {}
  const patience = setTimeout(() => giveUp(), 15_000)
  const bigAck = await Promise.race([
    big.publishAsync('load/v5-big', Buffer.alloc(LIMIT, 0x61), { qos: 1, properties: { userProperties: { 'device-id': 'v5-big' } } })
      .then((packet) => ({ reasonCode: (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0 }), (err: Error & { code?: number }) => ({ reasonCode: err.code, error: err.message })),
    new Promise<{ reasonCode: undefined, error: string }>((resolve) => { giveUp = () => resolve({ reasonCode: undefined, error: 'no PUBACK within 15 s' }) })
  ])
  clearTimeout(patience)
  t.match(bigAck, { reasonCode: 0x97 }, `the too-large message is refused to its device (0x97): ${JSON.stringify(bigAck)}`)
  await new Promise((resolve) => setTimeout(resolve, 1500))
  await load.stop(10_000)

  const records = await kcatConsume(r, 'plaintext', topic, load.sent + 1000)
  const check = checkAgainstKafka(load.acked, records)
  t.comment(JSON.stringify({ sent: load.sent, ...check, missing: check.missing.length, failed: load.failed.size, translator: proxy.counts, largestRefused: proxy.largestRefused }))
  t.ok(check.acknowledged > 2000, `load ran (${check.acknowledged} acknowledged)`)
  t.ok((proxy.counts['413'] ?? 0) > 0 && (proxy.counts['503'] ?? 0) > 0, `the translator refused large requests and was down for a while: ${JSON.stringify(proxy.counts)}`)
  // How far over the limit the refused requests were depends on timing: once a 413 is remembered (60 s), the backlog
  // after the outage is split before it is sent, so it may never be refused itself.
  t.ok(proxy.largestRefused > LIMIT, `requests over the limit were refused and split by the egress (largest refused ${proxy.largestRefused} bytes)`)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  t.same([...load.failed.entries()].slice(0, 5), [], 'no device publish refused or left unanswered')
  t.equal(check.acknowledged + load.failed.size, load.sent, 'every publish answered (no batch retried forever)')
  t.notOk(records.some((rec) => rec.key === 'v5-big'), 'the too-large message is not in Kafka')
  reportFault(t, 'remote translator answers 413', check)
  const ledger = await checkLedger(t, admin, 'load')
  t.same(ledger.dropped, { 'too-large': 1 }, 'the ledger counts one drop, too-large')
})
