import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { connectAsync, type MqttClient } from 'mqtt'
import { hashPassword } from '@flowgate/ingress'
import { freePort, eventually, makeDevicePki, manifests, dataflow, kafkaEndpoint, rig, createTopic, readRecords, uniqueTopic, startTestPostgres } from '@flowgate/testkit'

// infra/k8s as local processes: each Deployment's args and env are read out of the manifests (ConfigMap and Secret
// references resolved; the Secret's values, the Service host names, the ports and the data directory replaced by
// test ones), started as `node services/cli/bin/flowgate.mjs <args>` against one PostgreSQL; then device-access.yaml,
// placeholders filled, goes to Flowgate through the admin API, and a device connects over TLS with a user name and
// password to the ingress' device port. The cluster-internal port 18883 refuses clients without the `egress` user's
// password (anonymous, a wrong password, a device's credentials). With the Kafka rig (not with FLOWGATE_TEST_RIG=0),
// a dataflow from the `default` endpoint into Kafka proves the egress authenticates there as the endpoint says: the
// password from its egress-credentials Secret, TLS trusting its flowgate-ingress-ca ConfigMap (nothing mounted).

const DIR = join(process.cwd(), 'infra/k8s')
const CLI = join(process.cwd(), 'services/cli/bin/flowgate.mjs')
const NS = 'azure-iot-operations'
const TOKEN = 'k8s-processes-' + randomBytes(12).toString('hex')
const SECRET_KEY = randomBytes(32).toString('base64')
type Doc = { apiVersion: string, kind: string, metadata: { name: string, namespace?: string }, [k: string]: any }

const load = (file: string): Doc[] => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean)
const k8sDocs = ['config.yaml', 'admin.yaml', 'ingress.yaml', 'translator.yaml', 'egress.yaml'].flatMap(load)
const find = (kind: string, name: string): Doc => {
  const doc = k8sDocs.find((d) => d.kind === kind && d.metadata.name === name)
  if (!doc) throw new Error(`${kind}/${name} not in infra/k8s`)
  return doc
}

const pki = makeDevicePki()
t.teardown(() => pki.remove())
const pg = await startTestPostgres()
t.teardown(() => pg.stop())
const storeUrl = await pg.createDatabase()
const secretValues: Record<string, string> = { 'store-url': storeUrl, 'secret-key': SECRET_KEY, 'admin-token': TOKEN }
// The Kubernetes ConfigMaps with placeholders, filled (none left: the egress' CA is a Flowgate resource now).
const configMapValues: Record<string, Record<string, string>> = {}

const PORT_FLAG = /^--(http-|mqtt-|ws-)?port$/
// Every port the manifests name (containers and BrokerListener), mapped to a free local one.
const portMap = new Map<number, number>()
for (const d of k8sDocs.filter((d) => d.kind === 'Deployment')) {
  for (const c of d.spec.template.spec.containers) for (const p of c.ports ?? []) portMap.set(p.containerPort, await freePort())
  const health = d.spec.template.spec.containers[0].env.find((e: any) => e.name === 'FLOWGATE_HEALTH_PORT')
  if (health) portMap.set(Number(health.value), await freePort())
  const args = d.spec.template.spec.containers[0].args as string[]
  for (let i = 1; i < args.length; i++) if (PORT_FLAG.test(args[i - 1]!) && !portMap.has(Number(args[i]))) portMap.set(Number(args[i]), await freePort())
}
const local = (port: number | string): number => {
  const p = portMap.get(Number(port))
  if (p === undefined) throw new Error(`port ${port} is not a port of infra/k8s`)
  return p
}
/** Service names → 127.0.0.1, their ports → the local ones (`mqtts://flowgate-ingress:18883` → `mqtts://127.0.0.1:N`). */
const localize = (value: string): string =>
  value.replace(/\bflowgate-(admin|ingress|translator|egress)(?:\.flowgate(?:\.svc(?:\.cluster\.local)?)?)?:(\d+)/g, (_m, _n: string, port: string) => `127.0.0.1:${local(port)}`)

/** The container's command line and environment as Kubernetes would give them, made local. */
async function processOf (name: string): Promise<{ args: string[], env: Record<string, string> }> {
  const c = find('Deployment', name).spec.template.spec.containers[0]
  const env: Record<string, string> = {}
  for (const from of c.envFrom ?? []) Object.assign(env, find('ConfigMap', from.configMapRef.name).data)
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value)
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef
      t.ok(find('Secret', ref.name).stringData?.[ref.key] !== undefined, `${name}: Secret ${ref.name} has ${ref.key}`)
      env[e.name] = secretValues[ref.key]!
    } else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${name}-test-pod`
    else throw new Error(`${name}: env ${e.name} of an unknown form`)
  }
  // ConfigMap volumes: their files in a temp dir, paths under the mount point moved there.
  for (const m of c.volumeMounts ?? []) {
    const volume = find('Deployment', name).spec.template.spec.volumes.find((v: any) => v.name === m.name)
    if (!volume?.configMap) continue
    const dir = await mkdtemp(join(tmpdir(), `fg-k8s-${m.name}-`))
    dirs.push(dir)
    for (const [file, text] of Object.entries(configMapValues[volume.configMap.name] ?? find('ConfigMap', volume.configMap.name).data)) await writeFile(join(dir, file), text as string)
    for (const [k, v] of Object.entries(env)) if (v.startsWith(m.mountPath + '/')) env[k] = join(dir, v.slice(m.mountPath.length + 1))
  }
  for (const [k, v] of Object.entries(env)) env[k] = localize(v)
  // Loopback only here: what listens on every interface in the pod listens on 127.0.0.1 in the test.
  if (env.FLOWGATE_HOST === '0.0.0.0') env.FLOWGATE_HOST = '127.0.0.1'
  if (env.FLOWGATE_HEALTH_PORT !== undefined) env.FLOWGATE_HEALTH_PORT = String(local(env.FLOWGATE_HEALTH_PORT))
  if (env.FLOWGATE_DATA_DIR !== undefined) { env.FLOWGATE_DATA_DIR = await mkdtemp(join(tmpdir(), `fg-k8s-${name}-`)); dirs.push(env.FLOWGATE_DATA_DIR) }
  const args = (c.args as string[]).map((a, i, all) => PORT_FLAG.test(all[i - 1] ?? '') ? String(local(a)) : localize(a))
  return { args, env }
}

const log: string[] = []
const dirs: string[] = []
// Registered first, so it runs after the children's teardowns.
t.teardown(async () => { for (const dir of dirs) await rm(dir, { recursive: true, force: true }) })
function start (name: string, p: { args: string[], env: Record<string, string> }): ChildProcess {
  // The BrokerListener ports bind on `::` by default: loopback only in the test.
  const env: NodeJS.ProcessEnv = { ...process.env, ...p.env, FLOWGATE_LISTENER_HOST: '127.0.0.1', FLOWGATE_LOG_LEVEL: 'warn' }
  for (const k of ['FLOWGATE_STORE', 'FLOWGATE_ADMIN_TOKEN', 'FLOWGATE_SECRET_KEY']) if (!(k in p.env)) delete env[k]
  const proc = spawn(process.execPath, [CLI, ...p.args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout!.on('data', (b: Buffer) => log.push(`[${name}] ${b.toString()}`))
  proc.stderr!.on('data', (b: Buffer) => log.push(`[${name}] ${b.toString()}`))
  proc.on('exit', (code) => log.push(`[${name}] exited ${code}\n`))
  t.teardown(async () => { if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await new Promise((resolve) => proc.once('exit', resolve)) } })
  return proc
}
const ok = async (url: string): Promise<true | undefined> => (await fetch(url).catch(() => undefined))?.ok ? true : undefined

t.test('the manifests\' processes start; a device reaches the ingress over TLS with a password; the egress through its own TLS port into Kafka', async (t) => {
  const procs = Object.fromEntries(await Promise.all(['admin', 'ingress', 'translator', 'egress'].map(async (n) => [n, await processOf(`flowgate-${n}`)] as const)))
  t.match(procs.ingress!.args, ['ingress'], 'the ingress command')
  t.ok(procs.ingress!.env.FLOWGATE_STORE, 'the ingress has the store')
  t.not(procs.ingress!.env.FLOWGATE_HOST, '0.0.0.0')
  t.notOk(procs.ingress!.args.includes('--allow-anonymous'), 'the ingress runs without --allow-anonymous')
  t.notOk('NODE_EXTRA_CA_CERTS' in procs.egress!.env, 'the egress gets its CA from the `default` endpoint, not NODE_EXTRA_CA_CERTS')

  const healthOf = (n: string): number => Number(procs[n]!.env.FLOWGATE_HEALTH_PORT)
  start('admin', procs.admin!)
  await eventually(() => ok(`http://127.0.0.1:${healthOf('admin')}/healthz`), 30_000, `admin: ${log.join('')}`)
  start('ingress', procs.ingress!)
  start('translator', procs.translator!)
  for (const n of ['ingress', 'translator']) await eventually(() => ok(`http://127.0.0.1:${healthOf(n)}/healthz`), 30_000, `${n}: ${log.join('')}`)
  await eventually(() => ok(`http://127.0.0.1:${healthOf('ingress')}/readyz`), 30_000, `ingress ready: ${log.join('')}`)

  // device-access.yaml with its placeholders filled and the ports made local.
  const devicePassword = randomBytes(12).toString('hex')
  const access = load('device-access.yaml').map((doc) => {
    const d = structuredClone(doc)
    if (d.kind === 'Secret' && d.metadata.name === 'flowgate-ingress-tls') d.stringData = { 'tls.crt': pki.server.cert, 'tls.key': pki.server.key }
    if (d.kind === 'ConfigMap' && d.metadata.name === 'flowgate-ingress-ca') d.data = { 'ca.crt': pki.root.leaf }
    if (d.kind === 'BrokerListener') for (const p of d.spec.ports) p.port = local(p.port)
    if (d.kind === 'DataflowEndpoint') d.spec.mqttSettings.host = localize(d.spec.mqttSettings.host)
    return d
  })
  const text = JSON.stringify(access)
  t.notOk(/REPLACE-ME/.test(text.replace(/REPLACE-ME-with-the-(hash-from-flowgate-passwd|egress-password)/g, '')), 'only the password and hash placeholders are left')
  const bySecret = (name: string): Doc => access.find((d) => d.kind === 'Secret' && d.metadata.name === name)!
  const [deviceUser] = Object.keys(bySecret('device-passwords').stringData)
  bySecret('device-passwords').stringData = { [deviceUser!]: await hashPassword(devicePassword, { N: 1024 }) }
  // The egress' password: in the clear in the Secret the `default` endpoint names, hashed in the one port 18883's
  // BrokerAuthentication names. Followed through the resources rather than by name.
  const byKind = (kind: string, name: string): Doc => access.find((d) => d.kind === kind && d.metadata.name === name)!
  const defaultEndpoint = byKind('DataflowEndpoint', 'default')
  t.equal(defaultEndpoint.spec.mqttSettings.authentication.method, 'UsernamePassword', 'the `default` endpoint authenticates')
  const credentials = bySecret(defaultEndpoint.spec.mqttSettings.authentication.usernamePasswordSettings.secretRef)
  const egressUser = credentials.stringData.username as string
  const egressPassword = randomBytes(12).toString('hex')
  credentials.stringData = { ...credentials.stringData, password: egressPassword }
  const internalPortSpec = access.find((d) => d.kind === 'BrokerListener')!.spec.ports.find((p: any) => p.port === local(18883))
  t.ok(internalPortSpec?.authenticationRef, 'port 18883 has an authenticationRef')
  const egressAuthn = byKind('BrokerAuthentication', internalPortSpec.authenticationRef)
  const hashes = bySecret(egressAuthn.spec.authenticationMethods[0].usernamePasswordSettings.secretRef)
  t.same(Object.keys(hashes.stringData), [egressUser], `port 18883 knows the \`${egressUser}\` user only`)
  hashes.stringData = { [egressUser]: await hashPassword(egressPassword, { N: 1024 }) }
  t.notOk(/REPLACE-ME/.test(JSON.stringify(access)), 'every placeholder filled')

  const admin = `http://127.0.0.1:${healthOf('admin')}`
  const auth = { authorization: `Bearer ${TOKEN}` }
  const applied = await fetch(`${admin}/api/v1/apply`, { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body: manifests(...access) })
  t.equal(applied.status, 200, await applied.text())

  const devicePort = local(8883)
  const internalPort = local(18883)
  const listener = access.find((d) => d.kind === 'BrokerListener')!
  await eventually(async () => {
    const res = await fetch(`${admin}/api/v1/namespaces/${NS}/brokerlisteners/${listener.metadata.name}`, { headers: auth })
    const body = await res.json() as { status?: { conditions?: Array<{ type: string, status: string }> } }
    return body.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined
  }, 30_000, `listener Ready: ${log.join('')}`)

  const tls = { ca: pki.root.leaf, rejectUnauthorized: true, protocolVersion: 5 as const, reconnectPeriod: 0 }
  // Refused on the device port: no password, a wrong one.
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${devicePort}`, { ...tls, clientId: 'anon' }), 'no anonymous device')
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${devicePort}`, { ...tls, clientId: 'bad', username: deviceUser, password: 'wrong' }), 'a wrong password is refused')
  // The internal port: TLS, and the egress' password (a pod the NetworkPolicy let through still needs it).
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${internalPort}`, { ...tls, ca: pki.rogue.root.leaf, clientId: 'untrusted', username: egressUser, password: egressPassword }), 'the internal port is TLS')
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${internalPort}`, { ...tls, clientId: 'anon-pod' }), { code: 0x87 }, 'no anonymous client on the internal port')
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${internalPort}`, { ...tls, clientId: 'guess', username: egressUser, password: 'wrong' }), { code: 0x86 }, 'a wrong egress password is refused')
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${internalPort}`, { ...tls, clientId: 'device-there', username: deviceUser, password: devicePassword }), { code: 0x86 }, 'a device\'s credentials do not open the internal port')
  const probe = await connectAsync(`mqtts://127.0.0.1:${internalPort}`, { ...tls, clientId: 'egress-probe', username: egressUser, password: egressPassword })
  await probe.endAsync()
  t.pass('the egress user connects to the internal port')

  const device: MqttClient = await connectAsync(`mqtts://127.0.0.1:${devicePort}`, { ...tls, clientId: deviceUser, username: deviceUser, password: devicePassword })
  t.teardown(() => device.endAsync())
  const received: Array<{ topic: string, payload: string }> = []
  device.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }))
  await device.subscribeAsync('site/#', { qos: 1 })
  await device.publishAsync('site/direct', 'hello', { qos: 1 })
  await eventually(async () => received.some((m) => m.topic === 'site/direct' && m.payload === 'hello') ? true : undefined, 10_000, 'device round trip')
  t.pass('the device publishes and receives through the TLS + UsernamePassword port')

  // The egress: a dataflow on the `default` endpoint (device-access.yaml's: TLS, egress-credentials) into Kafka. The
  // internal port takes nobody without the password, so the egress getting the messages proves it authenticated.
  if (process.env.FLOWGATE_TEST_RIG === '0') { t.comment('FLOWGATE_TEST_RIG=0: the egress → Kafka part needs the Kafka rig, skipped'); return }
  const r = await rig()
  const topic = uniqueTopic('e2e-k8s')
  await createTopic(topic, 1)
  const flows = manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext }),
    dataflow({ name: 'k8s-flow', source: { endpointRef: 'default', dataSources: ['site/+/telemetry'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  )
  const flowApplied = await fetch(`${admin}/api/v1/apply`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: flows })
  t.equal(flowApplied.status, 200, await flowApplied.text())
  let flowStatus = ''
  start('egress', procs.egress!)
  await eventually(() => ok(`http://127.0.0.1:${healthOf('egress')}/readyz`), 30_000, `egress ready: ${log.join('')}`)
  await eventually(async () => {
    const res = await fetch(`${admin}/api/v1/namespaces/${NS}/dataflows/k8s-flow`, { headers: auth })
    const body = await res.json() as { status?: { conditions?: Array<{ type: string, status: string }> } }
    flowStatus = JSON.stringify(body.status)
    return body.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined
  }, 30_000, 'dataflow Ready').catch((err: Error) => { throw new Error(`${err.message} ${flowStatus} ${log.join('')}`) })
  // The egress' subscription on the internal port (its $share group) is what the ingress counts as a client.
  await eventually(async () => ((await (await fetch(`http://127.0.0.1:${healthOf('ingress')}/readyz`)).json()) as { clients: number }).clients >= 2 ? true : undefined, 30_000, `egress connected: ${log.join('')}`)
  await new Promise((resolve) => setTimeout(resolve, 500))
  for (let i = 0; i < 5; i++) await device.publishAsync(`site/${deviceUser}/telemetry`, `m-${i}`, { qos: 1 })
  const records = await readRecords(topic, 5)
  t.same(records.map((rec) => rec.value?.toString()).sort(), Array.from({ length: 5 }, (_, i) => `m-${i}`), 'in Kafka through the egress')
  t.notOk(log.join('').includes('FG_ERR_MQTT_AUTH_FAILED'), 'no refused credentials in the logs')
  t.pass('the egress subscribed through the internal port with the `default` endpoint\'s password and CA')
})
