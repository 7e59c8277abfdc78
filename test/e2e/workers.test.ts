// `flowgate start --workers 2` (issue 20): two gateway processes sharing the ports, PostgreSQL as their store and
// Redis as their broker. Devices land on both workers (the primary deals connections in turn) and still are one
// broker's devices: they exchange live and retained messages. A worker SIGKILLed under load is replaced; its devices
// reconnect to the other worker and resend; every message that got a success PUBACK from either worker is in Kafka
// (read with kcat), each device's sequence in order.
import t, { type Test } from 'tap'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync, type MqttClient } from 'mqtt'
import WebSocket from 'ws'
import {
  rig, createTopic, uniqueTopic, eventually, manifests, kafkaEndpoint, dataflow, freePort, startRedis, startDeviceLoad,
  kcatConsume, checkAgainstKafka, reportFault, adminClient, startTestPostgres
} from '@flowgate/testkit'

const r = await rig()
const CLI = join(process.cwd(), 'services/cli/bin/flowgate.mjs')
const TOKEN = 'workers-token-0123456789abcdef'
const NS = 'azure-iot-operations'
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

interface Workers { proc: ChildProcess, http: number, mqtt: number, log: string[], workerPids: () => number[] }

async function startWorkers (t: Test): Promise<Workers> {
  const pg = await startTestPostgres()
  t.teardown(() => pg.stop())
  const store = await pg.createDatabase()
  const redis = await startRedis(t)
  const [http, mqtt] = [await freePort(), await freePort()]
  const log: string[] = []
  const proc = spawn(process.execPath, [CLI, 'start', '--workers', '2', '--store', store, '--persistence-url', redis.url, '--http-port', String(http), '--mqtt-port', String(mqtt), '--data-dir', await mkdtemp(join(tmpdir(), 'fg-workers-')), '--log-level', 'info'],
    { env: { ...process.env, FLOWGATE_ADMIN_TOKEN: TOKEN, FLOWGATE_SECRET_KEY: randomBytes(32).toString('base64') }, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout!.on('data', (b: Buffer) => log.push(b.toString()))
  proc.stderr!.on('data', (b: Buffer) => log.push(b.toString()))
  t.teardown(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGTERM')
    await Promise.race([new Promise((resolve) => proc.once('exit', resolve)), sleep(30_000).then(() => proc.kill('SIGKILL'))])
  })
  // The primary's line once every worker is ready (a worker answers /readyz as soon as it alone is).
  await eventually(async () => log.join('').includes('flowgate listening with 2 workers') ? true : undefined, 90_000, `the workers ready: ${log.join('')}`)
  const workerPids = (): number[] => execFileSync('pgrep', ['-P', String(proc.pid)]).toString().trim().split('\n').filter(Boolean).map(Number)
  const children = (): string => execFileSync('ps', ['-o', 'pid,etimes,args', '--ppid', String(proc.pid)]).toString()
  await eventually(async () => workerPids().length === 2 ? true : undefined, 30_000, `two worker processes: ${children()}`)
  return { proc, http, mqtt, log, workerPids }
}

t.test('devices on different workers are one broker\'s: live and retained messages cross', async (t) => {
  const w = await startWorkers(t)
  const url = `mqtt://127.0.0.1:${w.mqtt}`
  // aedes announces each new client on `$SYS/<broker id>/new/clients`: through the shared emitter a watcher sees
  // every worker's announcements, so the broker ids say where each device landed.
  const watcher = await connectAsync(url, { protocolVersion: 5, clientId: 'watcher' })
  t.teardown(() => watcher.endAsync())
  const landedOn = new Map<string, string>()
  watcher.on('message', (topic, payload) => { if (topic.endsWith('/new/clients')) landedOn.set(payload.toString(), topic.split('/')[1]!) })
  await watcher.subscribeAsync('$SYS/+/new/clients', { qos: 0 })

  const devices: MqttClient[] = []
  const got = new Map<string, string[]>()
  for (let i = 0; i < 6; i++) {
    const id = `device-${i}`
    const d = await connectAsync(url, { protocolVersion: i % 2 === 0 ? 5 : 4, clientId: id })
    t.teardown(() => d.endAsync())
    got.set(id, [])
    d.on('message', (topic, payload) => { if (topic.startsWith('chat/')) got.get(id)!.push(payload.toString()) })
    await d.subscribeAsync('chat/#', { qos: 1 })
    devices.push(d)
  }
  await eventually(async () => landedOn.size >= 6 ? true : undefined, 10_000, `every device announced (${[...landedOn.entries()].join(' ')})`)
  const brokers = new Set([...landedOn.entries()].filter(([id]) => id.startsWith('device-')).map(([, broker]) => broker))
  t.equal(brokers.size, 2, 'the devices landed on both workers')

  for (const [i, d] of devices.entries()) await d.publishAsync(`chat/${i}`, `hello from ${i}`, { qos: 1 })
  const everyone = Array.from({ length: 6 }, (_, i) => `hello from ${i}`)
  await eventually(async () => [...got.values()].every((m) => m.length >= 6) ? true : undefined, 15_000, `every device got every message: ${JSON.stringify([...got.entries()])}`)
  for (const [id, messages] of got) t.same([...messages].sort(), everyone, `${id} got each device's message once, whichever worker it is on`)

  await devices[0]!.publishAsync('site/line-1/state', 'running', { qos: 1, retain: true })
  const readers = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
    const reader = await connectAsync(url, { protocolVersion: 5, clientId: `reader-${i}` })
    t.teardown(() => reader.endAsync())
    const retained = new Promise<string>((resolve) => reader.on('message', (_topic, payload, packet) => { if (packet.retain) resolve(payload.toString()) }))
    await reader.subscribeAsync('site/+/state', { qos: 1 })
    return await Promise.race([retained, sleep(10_000).then(() => 'nothing')])
  }))
  t.same(readers, ['running', 'running', 'running', 'running'], 'the retained message reaches new subscribers on either worker')
})

t.test('the live tail on either worker shows the messages of devices on both', async (t) => {
  const w = await startWorkers(t)
  const topic = uniqueTopic('workers-tail')
  await createTopic(topic, 1)
  const admin = adminClient(`http://127.0.0.1:${w.http}`, TOKEN)
  t.equal((await admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { batching: { latencyMs: 5 } } }),
    dataflow({ name: 'tailed', source: { endpointRef: 'default', dataSources: ['tailed/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  ))).status, 200)
  await eventually(async () => (await admin.get(`/api/v1/namespaces/${NS}/dataflows/tailed`)).body.status?.conditions?.[0]?.status === 'True' ? true : undefined, 30_000, 'the dataflow Ready')
  await sleep(1000)

  // Two readers: the primary deals HTTP connections in turn, so they land on both workers (as the devices do).
  const tails = await Promise.all([0, 1].map(async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${w.http}/api/v1/tail?dataflow=tailed`, { headers: { authorization: `Bearer ${TOKEN}` } })
    const seen: string[] = []
    ws.on('message', (data) => { seen.push((JSON.parse(String(data)) as { payload: { data: string } }).payload.data) })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    t.teardown(() => ws.terminate())
    return seen
  }))
  await sleep(500)
  const devices = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
    const d = await connectAsync(`mqtt://127.0.0.1:${w.mqtt}`, { protocolVersion: 5, clientId: `tailed-${i}` })
    t.teardown(() => d.endAsync())
    return d
  }))
  for (let n = 0; n < 10; n++) for (const [i, d] of devices.entries()) await d.publishAsync(`tailed/${i}`, `d${i}-${n}`, { qos: 1 })
  const every = devices.flatMap((_, i) => Array.from({ length: 10 }, (_, n) => `d${i}-${n}`)).sort()
  await eventually(async () => tails.every((seen) => seen.length >= every.length) ? true : undefined, 15_000, `both tails saw all 40 messages: ${tails.map((s) => s.length).join(', ')}`)
  await sleep(300)
  for (const [i, seen] of tails.entries()) t.same([...seen].sort(), every, `tail ${i + 1}: every device's messages once, whichever worker took them`)
})

t.test('a worker SIGKILLed under load: it is replaced, its devices carry on through the other, every acknowledged message is in Kafka in order', async (t) => {
  const w = await startWorkers(t)
  const topic = uniqueTopic('workers-kill')
  await createTopic(topic, 3)
  const admin = adminClient(`http://127.0.0.1:${w.http}`, TOKEN)
  const applied = await admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs: 5, maxMessages: 500 } } }),
    dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  ))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  // Both workers run the dataflow once they have seen it in the store: wait until either answers Ready, then a
  // moment for the other (a device's publish that finds no dataflow yet is held unacknowledged, never lost).
  await eventually(async () => (await admin.get(`/api/v1/namespaces/${NS}/dataflows/load`)).body.status?.conditions?.[0]?.status === 'True' ? true : undefined, 30_000, 'the dataflow Ready')
  await sleep(1000)

  const devices = Array.from({ length: 6 }, (_, i) => ({ clientId: `dev-${i}`, protocolVersion: (i % 2 === 0 ? 5 : 4) as 4 | 5 }))
  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${w.mqtt}`, prefix: 'load', devices, rate: 100, persistent: true })
  t.teardown(() => load.close())
  await sleep(2500)
  const before = load.acked.size
  t.ok(before > 500, `load ran (${before} acknowledged)`)

  // A scrape lands on either worker and answers for both: the devices' messages taken by the dataflow, summed.
  for (let i = 0; i < 4; i++) {
    const acked = load.acked.size
    const text = await (await fetch(`http://127.0.0.1:${w.http}/metrics`)).text()
    const received = Number(/^aio_dataflow_messages_received_total\{namespace="[^"]*",dataflow="load"\} (\d+)/m.exec(text)?.[1] ?? 0)
    t.ok(received >= acked, `scrape ${i + 1}: the dataflow took ${received} messages, at least the ${acked} acknowledged across both workers`)
  }

  const [victim] = w.workerPids()
  process.kill(victim!, 'SIGKILL')
  const atKill = load.acked.size
  await eventually(async () => { const pids = w.workerPids(); return pids.length === 2 && !pids.includes(victim!) ? true : undefined }, 30_000, `a worker in the killed one's place: ${w.log.join('')}`)
  await eventually(async () => load.acked.size > atKill + 1500 ? true : undefined, 30_000, `devices acknowledged again (${load.acked.size}, ${atKill} at the kill)`)
  await sleep(1500)
  await load.stop()
  t.comment(`acknowledged: ${before} before the kill, ${load.acked.size} in all; ${load.failed.size} failed at the device`)

  const records = await kcatConsume(r, 'plaintext', topic, load.sent + 2000)
  const check = checkAgainstKafka(load.acked, records)
  reportFault(t, 'gateway --workers 2: one worker SIGKILLed under load', check)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no device\'s sequence goes backwards')
  t.ok(w.proc.exitCode === null, 'the primary kept running')
})

t.test('SIGTERM stops the workers and the primary promptly, exit code 0 (not the primary\'s 60 s kill timer)', async (t) => {
  const w = await startWorkers(t)
  const workers = w.workerPids()
  const exited = new Promise<number | null>((resolve) => w.proc.once('exit', (code) => resolve(code)))
  w.proc.kill('SIGTERM')
  // Before the fix a worker's IPC channel kept it alive after its gateway closed, and the primary waited for it
  // until its kill timer (60 s) fired.
  const code = await Promise.race([exited, sleep(20_000).then(() => 'still running')])
  t.equal(code, 0, `the primary exited with 0 within 20 s: ${w.log.join('').slice(-2000)}`)
  const alive = workers.filter((pid) => { try { process.kill(pid, 0); return true } catch { return false } })
  t.same(alive, [], 'no worker process left behind')
})
