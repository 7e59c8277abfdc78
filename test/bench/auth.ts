// `pnpm bench auth`: what the device front door (services/ingress/src/access/) costs.
//  1. Connects per second through TLS + X.509 (client certificates from makeDevicePki, EC P-256) against the same
//     connects to a TLS port without authentication (the baseline) and to a plain TCP port.
//  2. QoS 1 publish throughput through a port with a BrokerAuthorization of 100 rules (cache Enabled, and Disabled)
//     against the same port with the authentication but no authorizationRef (target: rules cost ≤ 5 %).
//
// Three processes: the bench (this module, imported by run.ts), the broker (`services/ingress`'s startIngress with an
// in-memory AccessSource, no Kafka, PUBACK at once; this file with argv `server`) and the load generator (this file
// with argv `load`), so neither the broker nor the clients share an event loop with anything they measure.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { connect as netConnect, type Socket } from 'node:net'
import { availableParallelism } from 'node:os'
import { performance } from 'node:perf_hooks'
import { connect as tlsConnect } from 'node:tls'
import { fileURLToPath } from 'node:url'
import type { Bench, Measurement } from './lib/types.js'
import { framer } from './lib/raw-mqtt.js'

const self = fileURLToPath(import.meta.url)
const repo = fileURLToPath(new URL('../../', import.meta.url))

// ---- sizes (FLOWGATE_BENCH_* knobs) ----
/** Connects per configuration and round, and how many run at once. */
const CONNECTS = Number(process.env.FLOWGATE_BENCH_CONNECTS ?? 600)
const CONCURRENCY = Number(process.env.FLOWGATE_BENCH_CONCURRENCY ?? 20)
/** Alternating rounds per configuration; the figures are medians over them. */
const ROUNDS = Number(process.env.FLOWGATE_BENCH_ROUNDS ?? 3)
const MEASURE_MS = Number(process.env.FLOWGATE_BENCH_SECONDS ?? 4) * 1000
const WARMUP_MS = 2000
const CONNECTIONS = 100
const WINDOW = 20
const PAYLOAD = 256
const RULES = 100
/** The rule that lets the devices connect and publish sits here among the 100 (0-based). */
const MATCHING_RULE = 90
/** Distinct device certificates (openssl runs twice per certificate); connections reuse them round-robin. */
const DEVICE_CERTS = 20

const NS = 'default'
const BROKER_API = 'mqttbroker.iotoperations.azure.com/v1'

// ---- shared shapes ----
interface Cred { cert: string, key: string }
interface Target {
  port: number
  tls: boolean
  /** Client certificates, used round-robin; none: no certificate. */
  certs?: Cred[]
  username?: string
  password?: string
}
interface ConnectSpec { kind: 'connect', target: Target, ca: string, client: 'mqttjs' | 'raw', connects: number, warmup: number, concurrency: number, clientIdPrefix: string }
interface PublishSpec { kind: 'publish', target: Target, ca: string, connections: number, window: number, payloadBytes: number, warmupMs: number, measureMs: number, clientIdPrefix: string, checkDenied: boolean }
type LoadSpec = ConnectSpec | PublishSpec
interface ConnectResult { rate: number, completed: number, failed: number, firstError?: string, p50: number, p99: number, elu: number, seconds: number }
interface PublishResult { rate: number, windowAcks: number, failed: number, firstError?: string, p50: number, p99: number, elu: number, seconds: number, denied?: number }

interface ServerConfig {
  ports: { tcp: number, tls: number, x509: number, x509Rules: number, x509RulesNoCache: number, pw: number, pwRules: number, pwRulesNoCache: number }
  pki: { rootCa: string, serverCert: string, serverKey: string, intermediateSubject: string }
  passwordHash: string
  users: string[]
}

// ---- MQTT frames by hand (v5), as lib/raw-mqtt.ts ----
function varint (n: number): Buffer {
  const out: number[] = []
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b) } while (n > 0)
  return Buffer.from(out)
}
function str (s: string): Buffer { const b = Buffer.from(s); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]) }
function connectFrame (clientId: string, username?: string, password?: string): Buffer {
  const flags = 0x02 | (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0)
  const body = Buffer.concat([str('MQTT'), Buffer.from([5, flags, 0, 120, 0]), str(clientId),
    ...(username !== undefined ? [str(username)] : []), ...(password !== undefined ? [str(password)] : [])])
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body])
}
const DISCONNECT = Buffer.from([0xe0, 0x00])

function openSocket (target: Target, ca: string, i: number): Socket {
  if (!target.tls) { const s = netConnect(target.port, '127.0.0.1'); s.setNoDelay(true); return s }
  const cred = target.certs?.[i % target.certs.length]
  const s = tlsConnect({ host: '127.0.0.1', port: target.port, ca, ...(cred !== undefined ? { cert: cred.cert, key: cred.key } : {}) })
  s.setNoDelay(true)
  return s
}


/** One raw connect: (TLS handshake,) CONNECT, CONNACK, DISCONNECT, wait for the close. Rejects on a refusal. */
async function rawConnectOnce (target: Target, ca: string, i: number, clientId: string): Promise<void> {
  const socket = openSocket(target, ca, i)
  // A reset after the CONNACK (the broker closing on DISCONNECT while TLS says goodbye) still counts as a connect.
  const closed = new Promise((resolve) => socket.once('close', resolve))
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.once('close', () => reject(new Error('closed before CONNACK')))
      socket.on('data', framer((first, body) => {
        if (first >> 4 !== 2) return
        if (body[1]! >= 0x80) reject(new Error(`CONNACK 0x${body[1]!.toString(16)}`)); else resolve()
      }))
      socket.write(connectFrame(clientId, target.username, target.password))
    })
    socket.on('error', () => {})
    socket.end(DISCONNECT)
  } catch (err) { socket.destroy(); throw err }
  await closed
}

// ---- the load generator (argv: load <spec json>) ----
async function runConnects (spec: ConnectSpec): Promise<ConnectResult> {
  const mqtt = spec.client === 'mqttjs' ? await import('mqtt') : undefined
  const one = async (i: number): Promise<void> => {
    const clientId = `${spec.clientIdPrefix}-${i}`
    if (mqtt === undefined) return await rawConnectOnce(spec.target, spec.ca, i, clientId)
    const cred = spec.target.certs?.[i % spec.target.certs.length]
    const client = await mqtt.connectAsync(`${spec.target.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${spec.target.port}`, {
      protocolVersion: 5, clientId, clean: true, reconnectPeriod: 0, keepalive: 120, connectTimeout: 20_000,
      ...(spec.target.tls ? { ca: spec.ca, ...(cred !== undefined ? { cert: cred.cert, key: cred.key } : {}) } : {}),
      ...(spec.target.username !== undefined ? { username: spec.target.username, password: spec.target.password } : {})
    })
    await client.endAsync() // sends DISCONNECT, waits for the stream to close
  }
  const total = spec.warmup + spec.connects
  let next = 0
  let failed = 0
  let firstError: string | undefined
  let t0 = 0
  let elu0 = performance.eventLoopUtilization()
  const samples: number[] = []
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++
      if (i >= total) return
      if (i === spec.warmup) { t0 = performance.now(); elu0 = performance.eventLoopUtilization(); process.stdout.write('{"event":"window-start"}\n') }
      const s = performance.now()
      try { await one(i); if (i >= spec.warmup) samples.push(performance.now() - s) } catch (err) { failed++; firstError ??= (err as Error).message }
    }
  }
  await Promise.all(Array.from({ length: spec.concurrency }, worker))
  const seconds = (performance.now() - t0) / 1000
  const elu = performance.eventLoopUtilization(elu0).utilization
  process.stdout.write('{"event":"window-end"}\n')
  samples.sort((a, b) => a - b)
  const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? NaN
  return { rate: samples.length / seconds, completed: samples.length, failed, ...(firstError !== undefined ? { firstError } : {}), p50: q(0.5), p99: q(0.99), elu, seconds }
}

interface Publisher { publish: (topic: Buffer | undefined, done: (rc: number) => void) => void, inflight: number, end: () => void }

/** A lean QoS 1 publisher (lib/raw-mqtt.ts's approach) on a TCP or TLS socket, with a user name and password if given. */
async function rawPublisher (target: Target, ca: string, i: number, clientId: string, topic: string, payload: Buffer): Promise<Publisher> {
  const socket = openSocket(target, ca, i)
  const make = (t: string): { frame: Buffer, idAt: number } => {
    const body = Buffer.concat([str(t), Buffer.from([0, 0, 0]), payload])
    const head = Buffer.concat([Buffer.from([0x32]), varint(body.length)])
    return { frame: Buffer.concat([head, body]), idAt: head.length + 2 + Buffer.byteLength(t) }
  }
  const main = make(topic)
  const waiting = new Map<number, (rc: number) => void>()
  let nextId = 1
  let connected!: () => void
  let failed!: (e: Error) => void
  const ready = new Promise<void>((resolve, reject) => { connected = resolve; failed = reject })
  socket.on('error', (e) => failed(e))
  socket.on('close', () => { for (const done of waiting.values()) done(0x80); waiting.clear(); failed(new Error('connection closed')) })
  socket.on('data', framer((first, body) => {
    const type = first >> 4
    if (type === 4) {
      const id = body.readUInt16BE(0)
      const done = waiting.get(id)
      waiting.delete(id)
      done?.(body.length > 2 ? body[2]! : 0)
    } else if (type === 2) {
      if (body[1]! >= 0x80) failed(new Error(`CONNACK 0x${body[1]!.toString(16)}`)); else connected()
    }
  }))
  socket.write(connectFrame(clientId, target.username, target.password))
  await ready
  let corked = false
  const uncork = (): void => { corked = false; socket.uncork() }
  const pub: Publisher = {
    inflight: 0,
    publish (other, done) {
      if (!corked) { corked = true; socket.cork(); process.nextTick(uncork) }
      const id = nextId
      nextId = nextId === 65535 ? 1 : nextId + 1
      const t = other === undefined ? main : make(other.toString())
      const frame = Buffer.from(t.frame)
      frame.writeUInt16BE(id, t.idAt)
      waiting.set(id, done)
      socket.write(frame)
    },
    end () { socket.end(DISCONNECT); socket.destroy() }
  }
  return pub
}

async function runPublishes (spec: PublishSpec): Promise<PublishResult> {
  const payload = Buffer.alloc(spec.payloadBytes, 'x')
  const conns: Publisher[] = []
  for (let i = 0; i < spec.connections; i += 10) {
    conns.push(...await Promise.all(Array.from({ length: Math.min(10, spec.connections - i) }, async (_, k) => {
      const id = `${spec.clientIdPrefix}-${i + k}`
      return await rawPublisher(spec.target, spec.ca, i + k, id, `factory/${id}/telemetry`, payload)
    })))
  }
  let measuring = false
  let stopping = false
  let windowAcks = 0
  let failed = 0
  let firstError: string | undefined
  const samples: number[] = []
  const pump = (c: Publisher): void => {
    while (!stopping && c.inflight < spec.window) {
      c.inflight++
      const t0 = performance.now()
      const inWindow = measuring
      c.publish(undefined, (rc) => {
        c.inflight--
        if (rc >= 0x80) { failed++; firstError ??= `PUBACK 0x${rc.toString(16)}` } else if (measuring) windowAcks++
        if (inWindow && measuring && samples.length < 2_000_000) samples.push(performance.now() - t0)
        pump(c)
      })
    }
  }
  for (const c of conns) pump(c)
  const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
  await sleep(spec.warmupMs)
  measuring = true
  const w0 = performance.now()
  const elu0 = performance.eventLoopUtilization()
  process.stdout.write('{"event":"window-start"}\n')
  await sleep(spec.measureMs)
  measuring = false
  const seconds = (performance.now() - w0) / 1000
  const elu = performance.eventLoopUtilization(elu0).utilization
  process.stdout.write('{"event":"window-end"}\n')
  stopping = true
  const until = performance.now() + 10_000
  while (conns.some((c) => c.inflight > 0) && performance.now() < until) await sleep(20)
  // The rules are really consulted: a topic outside `factory/{principal.clientId}/#` must be refused (0x87).
  let denied: number | undefined
  if (spec.checkDenied) denied = await new Promise<number>((resolve) => conns[0]!.publish(Buffer.from('elsewhere/telemetry'), resolve))
  for (const c of conns) c.end()
  samples.sort((a, b) => a - b)
  const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? NaN
  return { rate: windowAcks / seconds, windowAcks, failed, ...(firstError !== undefined ? { firstError } : {}), p50: q(0.5), p99: q(0.99), elu, seconds, ...(denied !== undefined ? { denied } : {}) }
}

// ---- the broker (argv: server <config json on stdin>) ----
function authorization (name: string, cache: 'Enabled' | 'Disabled'): object {
  // 100 allow rules. Half apply to every device (the `site: bench` attribute the X509 method gives from the
  // intermediate's subject, or the user's attributes): each grants filters that never match the bench's topic, half
  // of them per principal. The other half name principals that never connect. Rule 90 alone grants Connect and
  // `factory/{principal.clientId}/#`.
  const rules = Array.from({ length: RULES }, (_, i) => {
    if (i === MATCHING_RULE) {
      return { principals: { attributes: [{ site: 'bench' }] }, brokerResources: [{ method: 'Connect' }, { method: 'Publish', topics: ['factory/{principal.clientId}/#'] }, { method: 'Subscribe', topics: ['factory/{principal.clientId}/#'] }] }
    }
    if (i % 2 === 0) {
      return { principals: { attributes: [{ site: 'bench' }] }, brokerResources: [{ method: 'Publish', topics: [`factory/{principal.clientId}/zone-${i}/#`, `plant-${i}/+/status`] }, { method: 'Subscribe', topics: [`plant-${i}/#`] }] }
    }
    return { principals: { clientIds: [`other-${i}`], usernames: [`user-${i}`], attributes: [{ site: `site-${i}` }] }, brokerResources: [{ method: 'Connect' }, { method: 'Publish', topics: [`factory/${i}/#`, '#'] }] }
  })
  return { apiVersion: BROKER_API, kind: 'BrokerAuthorization', metadata: { name, namespace: NS }, spec: { authorizationPolicies: { cache, rules } } }
}

async function runServer (): Promise<void> {
  const { pino } = await import('pino')
  const { startIngress } = await import('@flowgate/ingress')
  const config = JSON.parse(readFileSync(0, 'utf8')) as ServerConfig
  const { ports, pki } = config
  const tls = { mode: 'Manual', manual: { secretRef: 'server-cert' } }
  const items = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'device-ca', namespace: NS }, data: { 'root.pem': pki.rootCa } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'server-cert', namespace: NS }, type: 'kubernetes.io/tls', data: { 'tls.crt': pki.serverCert, 'tls.key': pki.serverKey } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'device-users', namespace: NS }, type: 'Opaque', data: Object.fromEntries(config.users.map((u) => [u, config.passwordHash])) },
    {
      apiVersion: BROKER_API, kind: 'BrokerAuthentication', metadata: { name: 'x509', namespace: NS },
      spec: { authenticationMethods: [{ method: 'X509', x509Settings: { trustedClientCaCert: 'device-ca', authorizationAttributes: { bench: { subject: pki.intermediateSubject, attributes: { site: 'bench' } } } } }] }
    },
    {
      apiVersion: BROKER_API, kind: 'BrokerAuthentication', metadata: { name: 'pw', namespace: NS },
      spec: { authenticationMethods: [{ method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 'device-users', userAttributes: Object.fromEntries(config.users.map((u) => [u, { site: 'bench' }])) } }] }
    },
    authorization('rules', 'Enabled'),
    authorization('rules-nocache', 'Disabled'),
    {
      apiVersion: BROKER_API, kind: 'BrokerListener', metadata: { name: 'bench', namespace: NS },
      spec: {
        ports: [
          { port: ports.tcp, protocol: 'Mqtt' },
          { port: ports.tls, protocol: 'Mqtt', tls },
          { port: ports.x509, protocol: 'Mqtt', tls, authenticationRef: 'x509' },
          { port: ports.x509Rules, protocol: 'Mqtt', tls, authenticationRef: 'x509', authorizationRef: 'rules' },
          { port: ports.x509RulesNoCache, protocol: 'Mqtt', tls, authenticationRef: 'x509', authorizationRef: 'rules-nocache' },
          { port: ports.pw, protocol: 'Mqtt', authenticationRef: 'pw' },
          { port: ports.pwRules, protocol: 'Mqtt', authenticationRef: 'pw', authorizationRef: 'rules' },
          { port: ports.pwRulesNoCache, protocol: 'Mqtt', authenticationRef: 'pw', authorizationRef: 'rules-nocache' }
        ]
      }
    }
  ] as any[]
  const statuses = new Map<string, any>()
  const find = (kind: string, name: string): any => items.find((r) => r.kind === kind && r.metadata.name === name)
  // An in-memory AccessSource: the resources above, never changing.
  const source = {
    list: async () => ({ items, resourceVersion: '1' }),
    async * changes (_from: string, signal: AbortSignal) { if (!signal.aborted) await once(signal, 'abort') },
    secret: async (_ns: string, name: string) => {
      const s = find('Secret', name)
      return s === undefined ? undefined : Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v)]))
    },
    configMap: async (_ns: string, name: string) => find('ConfigMap', name)?.data,
    putGeneratedSecret: async () => {},
    setStatus: async (kind: string, ns: string, name: string, status: unknown) => { statuses.set(`${kind}/${ns}/${name}`, status) }
  }
  // Every port on loopback: the authenticated ones would bind `::` by default.
  const ingress = await startIngress({ host: '127.0.0.1', mqttPort: 0, networkHost: '127.0.0.1', logger: pino({ level: 'silent' }), access: source as any })
  await ingress.frontDoor!.ready
  const status = statuses.get(`BrokerListener/${NS}/bench`)
  process.stdout.write(JSON.stringify({ ready: true, bound: (status?.ports ?? []).map((p: any) => p.bound ?? null), conditions: status?.conditions }) + '\n')
  process.once('SIGTERM', () => { void ingress.close().finally(() => process.exit(0)) })
}

// ---- the bench process ----
function lines (child: ChildProcess, onLine: (line: string) => void): void {
  let buf = ''
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString()
    let nl
    while ((nl = buf.indexOf('\n')) >= 0) { const line = buf.slice(0, nl); buf = buf.slice(nl + 1); onLine(line) }
  })
}

async function startServer (config: ServerConfig): Promise<{ pid: number, bound: Array<string | null>, close: () => Promise<void> }> {
  const { gatewayNodeFlags } = await import('../../services/cli/src/node-flags.js')
  // FLOWGATE_BENCH_GATEWAY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"): more node flags for the broker child.
  const extraArgs = (process.env.FLOWGATE_BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, [...gatewayNodeFlags, ...extraArgs, '--import', 'tsx', self, 'server'], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  child.stdin!.end(JSON.stringify(config))
  const ready = await new Promise<{ bound: Array<string | null> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker: not ready in 60 s; stderr: ${stderr}`)), 60_000)
    lines(child, (line) => { if (line.startsWith('{"ready"')) { clearTimeout(timer); resolve(JSON.parse(line)) } })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`broker exited (${code}); stderr: ${stderr}`)) })
  })
  return {
    pid: child.pid!,
    bound: ready.bound,
    async close () {
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/** Runs the load generator in a child process; `window` hooks read the broker's CPU time at the window's edges. */
async function runLoad<R> (spec: LoadSpec, brokerPid: number): Promise<R & { brokerCpu: number, loadCpu: number }> {
  const { procCpuSeconds } = await import('./lib/processes.js')
  const child = spawn(process.execPath, ['--import', 'tsx', self, 'load'], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  child.stdin!.end(JSON.stringify(spec))
  let b0 = 0; let b1 = 0; let l0 = 0; let l1 = 0
  const result = await new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`load: no result in 120 s; stderr: ${stderr}`)) }, 120_000)
    lines(child, (line) => {
      if (line === '{"event":"window-start"}') { b0 = procCpuSeconds(brokerPid); l0 = procCpuSeconds(child.pid!) } else if (line === '{"event":"window-end"}') { b1 = procCpuSeconds(brokerPid); l1 = procCpuSeconds(child.pid!) } else if (line.startsWith('{"result"')) { clearTimeout(timer); resolve(JSON.parse(line).result) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`load exited (${code}) without a result; stderr: ${stderr}`)) })
  })
  await once(child, 'exit').catch(() => {})
  return { ...result, brokerCpu: b1 - b0, loadCpu: l1 - l0 }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2 }
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const pct = (n: number): string => `${(n * 100).toFixed(1)} %`

export const authBench: Bench = {
  name: 'auth',
  description: `device front door: TLS + X.509 connects/s (${CONNECTS} per run, ${CONCURRENCY} at once, EC P-256) vs TLS without authentication; QoS 1 publishes (${CONNECTIONS} raw MQTT 5 connections × ${WINDOW} in flight, ${PAYLOAD} B) with ${RULES} BrokerAuthorization rules vs none — startIngress + in-memory AccessSource in a child process, no Kafka; medians of ${ROUNDS} alternating rounds`,
  async run (log) {
    const { makeDevicePki } = await import('@flowgate/testkit')
    const { hashPassword } = await import('@flowgate/ingress')
    const { freePort } = await import('./lib/processes.js')
    const cores = availableParallelism()
    const t0 = performance.now()
    const pki = makeDevicePki()
    const certs: Cred[] = Array.from({ length: DEVICE_CERTS }, (_, i) => { const d = pki.device(`bench-device-${i}`); return { cert: d.cert, key: d.key } })
    log(`PKI: root → intermediate → server + ${DEVICE_CERTS} device certificates (EC P-256) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const password = 'bench-s3cret'
    const users = Array.from({ length: CONNECTIONS }, (_, i) => `user-${i}`)
    const ports = {} as ServerConfig['ports']
    for (const k of ['tcp', 'tls', 'x509', 'x509Rules', 'x509RulesNoCache', 'pw', 'pwRules', 'pwRulesNoCache'] as const) ports[k] = await freePort()
    const server = await startServer({
      ports,
      pki: { rootCa: pki.root.leaf, serverCert: pki.server.cert, serverKey: pki.server.key, intermediateSubject: new X509Certificate(pki.intermediate.leaf).subject.split('\n').map((l) => l.replace('=', ' = ')).join(', ') },
      // The hash's cost is scrypt's, paid once per connect: N = 1024 keeps the connect phase short (flowgate passwd uses more).
      passwordHash: await hashPassword(password, { N: 1024 }),
      users
    })
    const prefix = Math.random().toString(36).slice(2, 8)
    try {
      if (server.bound.some((b) => b === null)) throw new Error(`some listener ports did not open: ${JSON.stringify(server.bound)}`)
      log(`broker ports bound: ${server.bound.join(', ')}`)

      // ---- 1. connects ----
      type C = { label: string, target: Target, client: 'mqttjs' | 'raw' }
      const connectConfigs: C[] = [
        { label: 'TLS, no authentication (mqtt.js)', target: { port: ports.tls, tls: true }, client: 'mqttjs' },
        { label: 'TLS + X.509 (mqtt.js)', target: { port: ports.x509, tls: true, certs }, client: 'mqttjs' },
        { label: 'plain TCP, no authentication (mqtt.js)', target: { port: ports.tcp, tls: false }, client: 'mqttjs' },
        { label: 'TLS, no authentication (raw TLS)', target: { port: ports.tls, tls: true }, client: 'raw' },
        { label: 'TLS + X.509 (raw TLS)', target: { port: ports.x509, tls: true, certs }, client: 'raw' },
        { label: 'plain TCP, no authentication (raw)', target: { port: ports.tcp, tls: false }, client: 'raw' }
      ]
      const connectRuns = new Map<string, Array<ConnectResult & { brokerCpu: number, loadCpu: number }>>()
      for (let round = 0; round < ROUNDS; round++) {
        for (const c of connectConfigs) {
          const r = await runLoad<ConnectResult>({ kind: 'connect', target: c.target, ca: pki.root.leaf, client: c.client, connects: CONNECTS, warmup: Math.max(CONCURRENCY, 100), concurrency: CONCURRENCY, clientIdPrefix: `auth-${prefix}-${round}` }, server.pid)
          log(`round ${round + 1} ${c.label}: ${fmt(r.rate)} connects/s, p50 ${r.p50.toFixed(1)} / p99 ${r.p99.toFixed(1)} ms, broker CPU ${(r.brokerCpu / r.completed * 1000).toFixed(2)} ms/connect (${pct(r.brokerCpu / r.seconds)}), load CPU ${pct(r.loadCpu / r.seconds)} (loop ${pct(r.elu)})${r.failed ? `, ${r.failed} FAILED: ${r.firstError}` : ''}`)
          connectRuns.set(c.label, [...(connectRuns.get(c.label) ?? []), r])
        }
      }

      // ---- 2. publishes ----
      // One run thrown away first: the broker's publish path warm (JIT) and the connect phase's sockets gone, so the
      // first configuration of round 1 is not the slow one.
      log('publish warm-up run (not counted)…')
      await runLoad<PublishResult>({ kind: 'publish', target: { port: ports.x509Rules, tls: true, certs }, ca: pki.root.leaf, connections: CONNECTIONS, window: WINDOW, payloadBytes: PAYLOAD, warmupMs: WARMUP_MS, measureMs: 2000, clientIdPrefix: `warm-${prefix}`, checkDenied: false }, server.pid)
      type P = { label: string, target: Target, checkDenied: boolean }
      const pwTarget = (port: number): Target => ({ port, tls: false, username: 'user-0', password })
      const publishConfigs: P[] = [
        { label: 'TLS + X.509, no authorizationRef', target: { port: ports.x509, tls: true, certs }, checkDenied: false },
        { label: 'TLS + X.509, 100 rules, cache Enabled', target: { port: ports.x509Rules, tls: true, certs }, checkDenied: true },
        { label: 'TLS + X.509, 100 rules, cache Disabled', target: { port: ports.x509RulesNoCache, tls: true, certs }, checkDenied: true },
        { label: 'TCP + password, no authorizationRef', target: pwTarget(ports.pw), checkDenied: false },
        { label: 'TCP + password, 100 rules, cache Enabled', target: pwTarget(ports.pwRules), checkDenied: true },
        { label: 'TCP + password, 100 rules, cache Disabled', target: pwTarget(ports.pwRulesNoCache), checkDenied: true }
      ]
      const publishRuns = new Map<string, Array<PublishResult & { brokerCpu: number, loadCpu: number }>>()
      for (let round = 0; round < ROUNDS; round++) {
        for (const c of publishConfigs) {
          // Password connections all log in as one user (its attributes give `site: bench`); the client ids differ.
          const r = await runLoad<PublishResult>({ kind: 'publish', target: c.target, ca: pki.root.leaf, connections: CONNECTIONS, window: WINDOW, payloadBytes: PAYLOAD, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, clientIdPrefix: `pub-${prefix}-${round}`, checkDenied: c.checkDenied }, server.pid)
          log(`round ${round + 1} ${c.label}: ${fmt(r.rate)} msg/s, p50 ${r.p50.toFixed(1)} / p99 ${r.p99.toFixed(1)} ms, broker CPU ${(r.brokerCpu / r.windowAcks * 1e6).toFixed(1)} µs/msg (${pct(r.brokerCpu / r.seconds)}), load CPU ${pct(r.loadCpu / r.seconds)} (loop ${pct(r.elu)})${r.failed ? `, ${r.failed} FAILED: ${r.firstError}` : ''}${r.denied !== undefined ? `, off-rule publish → PUBACK 0x${r.denied.toString(16)}` : ''}`)
          if (r.denied !== undefined && r.denied < 0x80) throw new Error(`${c.label}: a publish outside the rules was accepted (0x${r.denied.toString(16)}): the rules are not applied`)
          publishRuns.set(c.label, [...(publishRuns.get(c.label) ?? []), r])
        }
      }

      // ---- 3. the decision alone, in process: what one publish's check costs, without the box's noise ----
      const { compileAuthorization } = await import('../../services/ingress/src/access/authz/policy.js')
      const decisionNs = (cache: 'Enabled' | 'Disabled'): number => {
        const policy = compileAuthorization((authorization('x', cache) as any).spec)
        const principals = Array.from({ length: CONNECTIONS }, (_, i) => ({ clientId: `dev-${i}`, username: `bench-device-${i % DEVICE_CERTS}`, attributes: { site: 'bench' } }))
        const topics = principals.map((p) => `factory/${p.clientId}/telemetry`)
        let ok = 0
        const pass = (n: number): void => { for (let k = 0; k < n; k++) for (let i = 0; i < principals.length; i++) if (policy.publish(principals[i]!, topics[i]!)) ok++ }
        pass(2000) // JIT, grants worked out
        const t = performance.now()
        pass(20_000)
        const ns = (performance.now() - t) * 1e6 / (20_000 * principals.length)
        if (ok !== 22_000 * principals.length) throw new Error('in-process check: the matching rule did not allow the bench topic')
        return ns
      }
      const decisions = { Enabled: decisionNs('Enabled'), Disabled: decisionNs('Disabled') }
      log(`one publish decision in process (100 rules, 100 principals): cache Enabled ${decisions.Enabled.toFixed(0)} ns, Disabled ${decisions.Disabled.toFixed(0)} ns`)

      // ---- figures ----
      const connectRate = (label: string): number => median(connectRuns.get(label)!.map((r) => r.rate))
      const connectCpu = (label: string): number => median(connectRuns.get(label)!.map((r) => r.brokerCpu / r.completed * 1000))
      const baselineLabel = connectConfigs[0]!.label
      const baseline: Measurement = { label: `connects/s: ${baselineLabel}`, messagesPerSecond: connectRate(baselineLabel) }
      const candidates: Measurement[] = connectConfigs.slice(1).map((c) => ({ label: `connects/s: ${c.label}`, messagesPerSecond: connectRate(c.label) }))
      const pubRate = (label: string): number => median(publishRuns.get(label)!.map((r) => r.rate))
      const pubCpu = (label: string): number => median(publishRuns.get(label)!.map((r) => r.brokerCpu / r.windowAcks * 1e6))
      const pubP99 = (label: string): number => median(publishRuns.get(label)!.map((r) => r.p99))
      const notes: string[] = [
        `cores: ${cores} (os.availableParallelism), shared by the broker, the load generator and this process; rates are medians of ${ROUNDS} rounds, configurations alternating`,
        `connects: ${CONNECTS} per run after ${Math.max(CONCURRENCY, 100)} warm-up, ${CONCURRENCY} at once; each = TCP (+ TLS 1.3 full handshake, no resumption) + CONNECT/CONNACK + DISCONNECT + close`,
        ...connectConfigs.map((c) => `connect ${c.label}: ${fmt(connectRate(c.label))}/s = ${(connectRate(c.label) / baseline.messagesPerSecond).toFixed(2)}× TLS no-auth (same client); broker CPU ${connectCpu(c.label).toFixed(2)} ms per connect; runs ${connectRuns.get(c.label)!.map((r) => fmt(r.rate)).join(' / ')}`),
        `X.509 vs TLS without authentication: mqtt.js ${(connectRate(connectConfigs[1]!.label) / connectRate(connectConfigs[0]!.label)).toFixed(2)}×, raw TLS ${(connectRate(connectConfigs[4]!.label) / connectRate(connectConfigs[3]!.label)).toFixed(2)}×; raw vs mqtt.js on the X.509 port ${(connectRate(connectConfigs[4]!.label) / connectRate(connectConfigs[1]!.label)).toFixed(2)}×`
      ]
      for (const [base, ...rest] of [publishConfigs.slice(0, 3), publishConfigs.slice(3)]) {
        const b = pubRate(base!.label)
        notes.push(`publish ${base!.label}: ${fmt(b)} msg/s [publish baseline], broker ${pubCpu(base!.label).toFixed(1)} µs CPU/msg, p99 ${pubP99(base!.label).toFixed(1)} ms; runs ${publishRuns.get(base!.label)!.map((r) => fmt(r.rate)).join(' / ')}`)
        for (const c of rest) {
          const r = pubRate(c.label)
          notes.push(`publish ${c.label}: ${fmt(r)} msg/s = ${(r / b).toFixed(3)}× (cost ${pct(1 - r / b)}, target ≤ 5 %), broker ${pubCpu(c.label).toFixed(1)} µs CPU/msg (${pct(pubCpu(c.label) / pubCpu(base!.label) - 1)} per message), p99 ${pubP99(c.label).toFixed(1)} ms; runs ${publishRuns.get(c.label)!.map((x) => fmt(x.rate)).join(' / ')}`)
        }
      }
      notes.push(`one publish decision in process (policy.publish, ${RULES} rules, ${CONNECTIONS} principals, after warm-up): cache Enabled ${decisions.Enabled.toFixed(0)} ns, Disabled ${decisions.Disabled.toFixed(0)} ns = ${pct(decisions.Enabled / 1000 / pubCpu(publishConfigs[0]!.label))} / ${pct(decisions.Disabled / 1000 / pubCpu(publishConfigs[0]!.label))} of the broker's CPU per message on the X.509 port`)
      return { baseline, candidates, notes }
    } finally {
      await server.close()
      pki.remove()
    }
  }
}

// ---- child roles ----
if (process.argv[1] === self) {
  const role = process.argv[2]
  if (role === 'server') await runServer()
  else if (role === 'load') {
    const spec = JSON.parse(readFileSync(0, 'utf8')) as LoadSpec
    const result = spec.kind === 'connect' ? await runConnects(spec) : await runPublishes(spec)
    process.stdout.write(JSON.stringify({ result }) + '\n', () => process.exit(0))
  }
}
