import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka } from 'kafkajs'
import { connectAsync } from 'mqtt'
import { rig, createTopic, readRecords, uniqueTopic, kafkaConfig, eventually, manifests, kafkaEndpoint, dataflow, dataflowProfile } from '@flowgate/testkit'

// The split deployment on real parts: admin, ingress, translator and two egress instances as separate processes
// (`flowgate <service>`), a device publishing QoS 1 to the ingress, records read back from Kafka. Then one egress
// is SIGKILLed mid-stream: every message the device got a PUBACK for must still reach Kafka.

const r = await rig()
const CLI = join(process.cwd(), 'services/cli/bin/flowgate.mjs')
const TOKEN = 'split-test-token-0123456789abcdef'

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)) })
    s.on('error', reject)
  })
}

interface Service { name: string, proc: ChildProcess, log: string[] }

function service (t: { teardown: (fn: () => Promise<void>) => void }, name: string, args: string[], env: Record<string, string> = {}): Service {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FLOWGATE_ADMIN_TOKEN: TOKEN, FLOWGATE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const log: string[] = []
  proc.stdout!.on('data', (b: Buffer) => log.push(b.toString()))
  proc.stderr!.on('data', (b: Buffer) => log.push(b.toString()))
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      await new Promise((resolve) => proc.once('exit', resolve))
    }
  })
  return { name, proc, log }
}

async function httpOk (url: string, svc: Service): Promise<unknown> {
  return await eventually(async () => {
    if (svc.proc.exitCode !== null) throw new Error(`${svc.name} exited: ${svc.log.join('')}`)
    try { const res = await fetch(url); return res.ok ? await res.json() : undefined } catch { return undefined }
  }, 30_000, `${svc.name} at ${url}`)
}

async function metric (url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text()
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)
}

async function recordCount (topic: string): Promise<number> {
  const admin = new Kafka(kafkaConfig(r, 'plaintext', 'split-test-admin')).admin()
  await admin.connect()
  try { return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0) } finally { await admin.disconnect() }
}

t.test('split deployment: every acknowledged message reaches Kafka through two egress instances, one of them killed mid-stream', async (t) => {
  const topic = uniqueTopic('e2e-split')
  await createTopic(topic, 3)
  const [adminPort, mqttPort, ingressHttp, translatorPort, e0, e1] = await Promise.all([1, 2, 3, 4, 5, 6].map(async () => await freePort())) as [number, number, number, number, number, number]
  const dataDir = await mkdtemp(join(tmpdir(), 'fg-split-'))

  const admin = service(t, 'admin', ['admin', '--http-port', String(adminPort), '--data-dir', dataDir, '--mqtt-host', `127.0.0.1:${mqttPort}`])
  const ingress = service(t, 'ingress', ['ingress', '--mqtt-port', String(mqttPort), '--http-port', String(ingressHttp)])
  const translator = service(t, 'translator', ['translator', '--port', String(translatorPort)])
  await httpOk(`http://127.0.0.1:${adminPort}/healthz`, admin)
  await httpOk(`http://127.0.0.1:${ingressHttp}/healthz`, ingress)
  await httpOk(`http://127.0.0.1:${translatorPort}/healthz`, translator)

  const body = manifests(
    dataflowProfile('split', 2),
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { batching: { enabled: true, latencyMs: 5, maxMessages: 100 } } }),
    dataflow({ name: 'split-flow', profileRef: 'split', source: { endpointRef: 'default', dataSources: ['plant/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  )
  const applied = await fetch(`http://127.0.0.1:${adminPort}/api/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body })
  t.equal(applied.status, 200, await applied.text())

  const egressArgs = (id: number, port: number): string[] => ['egress', '--admin', `http://127.0.0.1:${adminPort}`, '--mqtt', `mqtt://127.0.0.1:${mqttPort}`, '--translator', `http://127.0.0.1:${translatorPort}`, '--instance-id', String(id), '--http-port', String(port)]
  const egress = [service(t, 'egress-0', egressArgs(0, e0)), service(t, 'egress-1', egressArgs(1, e1))]
  for (const [i, port] of [e0, e1].entries()) {
    await eventually(async () => {
      const ready = await httpOk(`http://127.0.0.1:${port}/readyz`, egress[i]!).catch(() => undefined) as { running?: string[] } | undefined
      return ready?.running?.length === 1 ? true : undefined
    }, 30_000, `egress-${i} running the dataflow`)
  }
  // Both members subscribed at the ingress (its readiness counts connected clients).
  await eventually(async () => ((await httpOk(`http://127.0.0.1:${ingressHttp}/readyz`, ingress)) as { clients: number }).clients >= 2 ? true : undefined, 20_000, 'both egress connected')
  await new Promise((resolve) => setTimeout(resolve, 500))

  const device = await connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 5, clientId: 'plc-7' })
  t.teardown(() => device.endAsync())

  // Steady state: all arrive, none twice, both instances carry a share.
  const N1 = 300
  for (let i = 0; i < N1; i++) await device.publishAsync(`plant/line/${i % 4}`, `a-${i}`, { qos: 1 })
  const first = await readRecords(topic, N1)
  const firstValues = first.map((rec) => rec.value?.toString())
  t.equal(new Set(firstValues).size, N1, 'every message of the steady phase in Kafka')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(await recordCount(topic), N1, 'no duplicates in steady state')
  const sent0 = await metric(`http://127.0.0.1:${e0}/metrics`, 'aio_dataflow_messages_sent_total')
  const sent1 = await metric(`http://127.0.0.1:${e1}/metrics`, 'aio_dataflow_messages_sent_total')
  t.ok(sent0 > 0 && sent1 > 0, `both egress instances sent (${sent0} / ${sent1})`)
  t.equal(sent0 + sent1, N1)
  // The egress instances read resources through the admin API (--admin) and write their status back through it: the
  // dataflow's status is both parts, counters summed, as `flowgate get dataflows` shows it.
  const status = await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1/dataflows`, { headers: { authorization: `Bearer ${TOKEN}` } })
    const flow = ((await res.json()) as { items: Array<{ metadata: { name: string }, status?: { conditions: Array<{ type: string, status: string }>, counters?: { sent: number } } }> }).items.find((f) => f.metadata.name === 'split-flow')
    return flow?.status?.counters?.sent === N1 ? flow.status : undefined
  }, 20_000, 'the dataflow status written back by both egress instances')
  t.equal(status.conditions.find((c) => c.type === 'Ready')?.status, 'True', 'Ready, as the egress instances report it')

  // Kill one egress mid-stream; the device keeps publishing and counts its PUBACKs.
  const N2 = 600
  const acked: string[] = []
  for (let i = 0; i < N2; i++) {
    if (i === N2 / 4) egress[1]!.proc.kill('SIGKILL')
    await device.publishAsync(`plant/line/${i % 4}`, `b-${i}`, { qos: 1 })
    acked.push(`b-${i}`)
  }
  const all = await eventually(async () => {
    const total = await recordCount(topic)
    if (total < N1 + N2) return undefined
    const records = await readRecords(topic, total)
    const values = new Set(records.map((rec) => rec.value?.toString()))
    return acked.every((v) => values.has(v)) ? records : undefined
  }, 60_000, 'every acknowledged message in Kafka')
  const values = all.map((rec) => rec.value?.toString() ?? '')
  t.ok(acked.every((v) => values.includes(v)), `all ${acked.length} messages the device got a PUBACK for are in Kafka`)
  const duplicates = values.length - new Set(values).size
  const dupA = values.filter((v) => v.startsWith('a-')).length - N1
  t.equal(dupA, 0, 'nothing from before the kill is written twice')
  t.comment(`duplicates from the killed instance's unacknowledged window: ${duplicates}`)
  t.ok(duplicates <= N2, 'duplicates bounded by what the killed instance held')
})
