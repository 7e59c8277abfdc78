import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import { rig, createTopic, readRecords, uniqueTopic, eventually, manifests, kafkaEndpoint, dataflow, secret, startTestPostgres } from '@flowgate/testkit'

// The split deployment with its production store: two admin replicas and an egress sharing one PostgreSQL.
// A resource applied through one admin replica is seen by the other and run by the egress (which also opens the
// SASL Secret the Kafka endpoint needs: only possible with the store, never through the admin API), and the
// dataflow's status the egress writes back is readable through either replica.

const r = await rig()
const CLI = join(process.cwd(), 'services/cli/bin/flowgate.mjs')
const TOKEN = 'split-pg-token-0123456789abcdef'
const SECRET_KEY = randomBytes(32).toString('base64')

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)) })
    s.on('error', reject)
  })
}

function service (t: { teardown: (fn: () => Promise<void>) => void }, args: string[], log: string[]): ChildProcess {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FLOWGATE_ADMIN_TOKEN: TOKEN, FLOWGATE_SECRET_KEY: SECRET_KEY, FLOWGATE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout!.on('data', (b: Buffer) => log.push(b.toString()))
  proc.stderr!.on('data', (b: Buffer) => log.push(b.toString()))
  t.teardown(async () => { if (proc.exitCode === null) { proc.kill('SIGTERM'); await new Promise((resolve) => proc.once('exit', resolve)) } })
  return proc
}

const api = async (port: number, path: string, init: RequestInit = {}): Promise<{ status: number, body: any }> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } })
  const text = await res.text()
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text }
}

t.test('two admin replicas and an egress share PostgreSQL: applied once, run with its Secret, status visible on both', async (t) => {
  const pgServer = await startTestPostgres()
  t.teardown(() => pgServer.stop())
  const url = await pgServer.createDatabase()
  const topic = uniqueTopic('e2e-split-pg')
  await createTopic(topic, 1)
  const [a1, a2, mqttPort, ingressHttp, translatorPort, e0] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()]
  const log: string[] = []
  for (const port of [a1, a2]) service(t, ['admin', '--http-port', String(port), '--store', url, '--data-dir', await mkdtemp(join(tmpdir(), 'fg-pg-admin-')), '--mqtt-host', `127.0.0.1:${mqttPort}`], log)
  service(t, ['ingress', '--mqtt-port', String(mqttPort), '--http-port', String(ingressHttp)], log)
  service(t, ['translator', '--port', String(translatorPort)], log)
  for (const port of [a1, a2, ingressHttp, translatorPort]) await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined, 30_000, `service on ${port}: ${log.join('')}`)

  const body = manifests(
    secret('sasl', { username: r.users['scram-sha-256'].username, password: r.users['scram-sha-256'].password }),
    kafkaEndpoint({ name: 'kafka', host: r.listeners.saslPlaintext, authentication: { method: 'Sasl', saslSettings: { saslType: 'ScramSha256', secretRef: 'sasl' } } }),
    dataflow({ name: 'pg-flow', source: { endpointRef: 'default', dataSources: ['site/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  )
  const applied = await api(a1, '/api/v1/apply', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  const seen = await api(a2, '/api/v1/namespaces/azure-iot-operations/dataflows/pg-flow')
  t.equal(seen.status, 200, 'the other admin replica sees the dataflow')

  service(t, ['egress', '--store', url, '--data-dir', await mkdtemp(join(tmpdir(), 'fg-pg-egress-')), '--mqtt', `mqtt://127.0.0.1:${mqttPort}`, '--translator', `http://127.0.0.1:${translatorPort}`, '--http-port', String(e0)], log)
  await eventually(async () => (await fetch(`http://127.0.0.1:${e0}/readyz`).catch(() => undefined))?.ok ? true : undefined, 30_000, 'egress ready')
  for (const port of [a1, a2]) {
    await eventually(async () => {
      const { body } = await api(port, '/api/v1/namespaces/azure-iot-operations/dataflows/pg-flow')
      return body.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True' ? true : undefined
    }, 30_000, `Ready through admin on ${port}: ${JSON.stringify((await api(port, '/api/v1/namespaces/azure-iot-operations/dataflows/pg-flow')).body.status)} ${log.join('')}`)
  }
  t.pass('the egress wrote Ready, both replicas show it')
  await eventually(async () => ((await (await fetch(`http://127.0.0.1:${ingressHttp}/readyz`)).json()) as { clients: number }).clients >= 1 ? true : undefined)
  await new Promise((resolve) => setTimeout(resolve, 500))

  const device = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5 })
  t.teardown(() => device.endAsync())
  for (let i = 0; i < 20; i++) await device.publishAsync(`site/a/${i}`, `m-${i}`, { qos: 1 })
  const records = await readRecords(topic, 20)
  t.same(records.map((rec) => rec.value?.toString()).sort(), Array.from({ length: 20 }, (_, i) => `m-${i}`).sort(), 'all in Kafka through SASL/SCRAM with the Secret from PostgreSQL')
})
