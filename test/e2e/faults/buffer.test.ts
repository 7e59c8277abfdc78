import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rig, createTopic, uniqueTopic, kcatConsume, eventually, manifests, kafkaEndpoint, dataflow, startDeviceLoad, checkAgainstKafka, freePort, reportFault, checkLedger, type AdminClient } from '@flowgate/testkit'

// Devices that send more than Kafka takes: while Kafka is unreachable, four devices (v5 and 3.1.1) each keep up to
// 1,500 QoS 1 publishes of 16 KiB in flight — 96 MiB offered — to a gateway started with --max-held-bytes 8 MiB.
// The gateway stops reading from them instead of holding it all: its RSS (sampled from /proc) stays flat. Then the
// endpoint is fixed and every acknowledged message must be in Kafka.

const r = await rig()
const CLI = join(process.cwd(), 'services/cli/bin/flowgate.mjs')
const HELD = 8 * 1024 * 1024
const devices = [
  { clientId: 'big-v5-a', protocolVersion: 5 as const }, { clientId: 'big-v5-b', protocolVersion: 5 as const },
  { clientId: 'big-v3-a', protocolVersion: 4 as const }, { clientId: 'big-v3-b', protocolVersion: 4 as const }
]

function rssMb (pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  return Math.round(kb / 1024)
}

t.test('a device sending past the buffer: the gateway stops reading it, memory stays flat, nothing acknowledged is lost', { timeout: 150_000 }, async (t) => {
  const topic = uniqueTopic('fault-buffer')
  await createTopic(topic, 3)
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-buffer-'))
  const [httpPort, mqttPort, nowhere] = [await freePort(), await freePort(), await freePort()]
  const gateway = spawn(process.execPath, [CLI, 'start', '--http-port', String(httpPort), '--mqtt-port', String(mqttPort), '--data-dir', dataDir, '--max-held-bytes', String(HELD), '--buffer-bytes', String(HELD / 2), '--log-level', process.env.FLOWGATE_TEST_LOG ?? 'warn'], { stdio: ['ignore', process.env.FLOWGATE_TEST_LOG !== undefined ? 'inherit' : 'ignore', 'inherit'] })
  t.teardown(async () => {
    gateway.kill('SIGKILL')
    await new Promise((resolve) => gateway.once('exit', resolve))
    rmSync(dataDir, { recursive: true, force: true })
  })
  const base = `http://127.0.0.1:${httpPort}`
  await eventually(async () => (await fetch(`${base}/readyz`).then((res) => res.ok, () => false)) ? true : undefined, 30_000, 'the gateway ready')
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()
  const headers = { authorization: `Bearer ${token}` }
  const admin: AdminClient = {
    base,
    async apply (yaml) { const res = await fetch(`${base}/api/v1/apply`, { method: 'POST', headers: { ...headers, 'content-type': 'application/yaml' }, body: yaml }); return { status: res.status, body: await res.json() } },
    async get (path) { const res = await fetch(`${base}${path}`, { headers }); return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() } }
  }
  const flow = (host: string): string => manifests(
    kafkaEndpoint({ name: 'kafka', host, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id' } }),
    dataflow({ name: 'big', source: { endpointRef: 'default', dataSources: ['big/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  )
  // Kafka unreachable: nothing listens on the endpoint's port.
  t.equal((await admin.apply(flow(`127.0.0.1:${nowhere}`))).status, 200)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const idleRss = rssMb(gateway.pid!)
  let maxRss = idleRss
  const sampler = setInterval(() => { maxRss = Math.max(maxRss, rssMb(gateway.pid!)) }, 100)
  t.teardown(() => clearInterval(sampler))

  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${mqttPort}`, prefix: 'big', devices, rate: 2000, window: 1500, payloadBytes: 16 * 1024 })
  t.teardown(() => load.close())
  await new Promise((resolve) => setTimeout(resolve, 8000))
  const offeredMb = Math.round(load.sent * 16 / 1024)
  const outageRss = maxRss
  const paused = (await admin.get('/metrics')).body as string
  t.match(paused, /flowgate_broker_connections_paused [1-9]/, 'devices are paused for max-held-bytes')
  t.ok(offeredMb >= 64, `devices offered ${offeredMb} MiB while Kafka was unreachable`)
  t.ok(outageRss - idleRss < 64, `gateway RSS grew by ${outageRss - idleRss} MB (idle ${idleRss} MB, peak ${outageRss} MB) with ${offeredMb} MiB offered and --max-held-bytes 8 MiB`)
  t.equal(load.acked.size, 0, 'nothing acknowledged while Kafka is unreachable')

  // Kafka back: the endpoint fixed, the held messages go, the devices are read again.
  t.equal((await admin.apply(flow(r.listeners.plaintext))).status, 200)
  await eventually(async () => load.acked.size > 6000 ? true : undefined, 60_000, 'the backlog delivered').catch(async (err: Error) => {
    t.comment(`acked ${load.acked.size} of ${load.sent}, failed ${load.failed.size} ${JSON.stringify([...load.failed.values()].slice(0, 3))}`)
    t.comment(JSON.stringify((await admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/big')).body.status))
    t.comment(((await admin.get('/metrics')).body as string).split('\n').filter((l) => /paused|buffered|held/.test(l) && !l.startsWith('#')).join(' | '))
    throw err
  })
  await load.stop()
  clearInterval(sampler)
  const records = await kcatConsume(r, 'plaintext', topic, load.sent + 1000)
  const check = checkAgainstKafka(load.acked, records)
  reportFault(t, 'devices send past --max-held-bytes (8 MiB) while Kafka is down', check, maxRss)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  await checkLedger(t, admin, 'big')
})
