import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { gatewayNodeFlags } from '../../../services/cli/src/node-flags.js'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const cliBin = join(repo, 'services/cli/bin/flowgate.mjs')
const ingressChild = fileURLToPath(new URL('./ingress-child.ts', import.meta.url))
const aedesFeedChild = fileURLToPath(new URL('./aedes-feed-child.ts', import.meta.url))

/** Resident and peak resident memory of a process, from /proc (Linux). */
export function procMemory (pid: number): { rssMb: number, peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 }
}

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
export function procCpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** The machine's CPU time so far, busy and in all, in clock ticks (`/proc/stat`, every core): busy ÷ all = load. */
export function machineCpuTicks (): { busy: number, total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number)
  const [, , , idle = 0, iowait = 0] = fields
  const total = fields.reduce((a, b) => a + b, 0)
  return { busy: total - idle - iowait, total }
}

/** A process and its children (a `--workers` primary and its workers): what their CPU and memory add up to. */
export function processTree (pid: number): number[] {
  let children: number[] = []
  try { children = execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').filter(Boolean).map(Number) } catch {}
  return [pid, ...children.flatMap(processTree)]
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)) })
  })
}

async function waitForPort (port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Resolves with the first stdout line `match` accepts; rejects if the process exits first. */
function firstLine<T> (child: ChildProcess, match: (line: string) => T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = ''
    let stderr = ''
    const timer = setTimeout(() => reject(new Error(`${what}: no start-up line in ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs)
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        const found = match(line)
        if (found !== undefined) { clearTimeout(timer); resolve(found); return }
      }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}) during start-up; stderr: ${stderr.slice(-2000)}`)) })
  })
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the child is gone. */
export async function stop (child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  await exited
  clearTimeout(timer)
}

export interface ChildGateway {
  pid: number
  mqttPort: number
  httpBase: string
  token: string
  /** POST /api/v1/apply with a YAML body. */
  apply: (yaml: string) => Promise<{ status: number, body: any }>
  get: (path: string) => Promise<any>
  /** Applies the YAML and waits until the dataflow `bench` reports Ready (a failed apply or ~20 s without it throw). */
  applyAndWaitReady: (yaml: string) => Promise<void>
  close: () => Promise<void>
}

/**
 * `flowgate start` as a child process (free ports, throwaway data directory, admin token from the environment): the
 * gateway's memory and CPU are its own. `nodeArgs` go to node (e.g. `--cpu-prof`), `startArgs` to `flowgate start`
 * (e.g. `--workers 2 --store … --persistence-url …`: then it is ready once every worker is).
 */
export async function startChildGateway (nodeArgs: string[] = [], startArgs: string[] = []): Promise<ChildGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-bench-'))
  const token = randomBytes(16).toString('hex')
  // Knobs for looking inside: FLOWGATE_BENCH_GATEWAY_NODE_ARGS (e.g. "--trace-gc"), FLOWGATE_BENCH_GATEWAY_LOG=<file>.
  const extraArgs = (process.env.FLOWGATE_BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, [...gatewayNodeFlags, ...nodeArgs, ...extraArgs, cliBin, 'start', '--http-port', String(await freePort()), '--mqtt-port', String(await freePort()), '--data-dir', dataDir, '--log-level', 'info', ...startArgs],
    { cwd: repo, env: { ...process.env, FLOWGATE_ADMIN_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] })
  const addr = await firstLine(child, (line) => {
    // `--workers N` (N > 1): the primary's line once every worker is ready; one process says `flowgate listening:`.
    const at = startArgs.indexOf('--workers')
    if (!line.includes(at >= 0 && Number(startArgs[at + 1]) > 1 ? 'flowgate listening with' : 'flowgate listening')) return undefined
    const { mqtt, http } = JSON.parse(line) as { mqtt: string, http: string }
    return { mqttPort: Number(new URL(mqtt).port), httpBase: http }
  }, 'flowgate start')
  if (process.env.FLOWGATE_BENCH_GATEWAY_LOG) child.stdout!.pipe(createWriteStream(process.env.FLOWGATE_BENCH_GATEWAY_LOG))
  else child.stdout!.resume() // keep draining its log
  const headers = { authorization: `Bearer ${token}` }
  async function apply (yaml: string): Promise<{ status: number, body: any }> {
    const res = await fetch(`${addr.httpBase}/api/v1/apply`, { method: 'POST', headers: { ...headers, 'content-type': 'application/yaml' }, body: yaml })
    return { status: res.status, body: await res.json() }
  }
  async function get (path: string): Promise<any> { return await (await fetch(`${addr.httpBase}${path}`, { headers })).json() }
  return {
    pid: child.pid!,
    ...addr,
    token,
    apply,
    get,
    async applyAndWaitReady (yaml) {
      const applied = await apply(yaml)
      if (applied.status !== 200) throw new Error(`apply: ${applied.status} ${JSON.stringify(applied.body)}`)
      for (let i = 0; ; i++) {
        const df = await get('/api/v1/namespaces/default/dataflows/bench')
        if (df.status?.conditions?.some((c: { type: string, status: string }) => c.type === 'Ready' && c.status === 'True')) return
        if (i > 200) throw new Error(`dataflow not Ready: ${JSON.stringify(df.status)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    async close () { await stop(child); rmSync(dataDir, { recursive: true, force: true }) }
  }
}

/** services/ingress fed in process through the embedded publisher (lib/aedes-feed-child.ts), in a child process. */
export async function startChildAedesFeed (): Promise<{ pid: number, mqttPort: number, feed: (count: number, topic: string, sameAsFlow?: boolean) => void, close: () => Promise<void> }> {
  const child = spawn(process.execPath, [...gatewayNodeFlags, '--import', 'tsx', aedesFeedChild], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] })
  const mqttPort = await firstLine(child, (line) => line.startsWith('{') ? (JSON.parse(line) as { mqttPort: number }).mqttPort : undefined, 'aedes feed')
  child.stdout!.resume()
  return { pid: child.pid!, mqttPort, feed: (count, topic, sameAsFlow = false) => { child.stdin!.write(`${count} ${topic}${sameAsFlow ? ' same' : ''}\n`) }, close: async () => { await stop(child) } }
}

/** services/ingress alone (aedes, no interceptor) in a child process. */
export async function startChildIngress (): Promise<{ pid: number, mqttPort: number, close: () => Promise<void> }> {
  // The gateway's V8 flags here too: the reference runs on the same heap configuration as Flowgate.
  const child = spawn(process.execPath, [...gatewayNodeFlags, '--import', 'tsx', ingressChild], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
  const mqttPort = await firstLine(child, (line) => line.startsWith('{') ? (JSON.parse(line) as { mqttPort: number }).mqttPort : undefined, 'ingress')
  return { pid: child.pid!, mqttPort, close: async () => { await stop(child) } }
}

/** Debian's Mosquitto on a free loopback port, config generated; in-flight window and queue large enough for the bench. */
export async function startMosquitto (): Promise<{ pid: number, port: number, close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-mosquitto-'))
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    // Receive Maximum advertised to publishers and the in-flight window towards subscribers.
    'max_inflight_messages 100',
    'max_queued_messages 200000',
    'log_dest stderr',
    'log_type error',
    ''
  ].join('\n'))
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.resume()
  await waitForPort(port)
  return { pid: child.pid!, port, close: async () => { await stop(child); rmSync(dir, { recursive: true, force: true }) } }
}

/**
 * `mosquitto_sub -q 1 | kcat -P`: the native peer pipeline. Started through sh in a process group of its own so both
 * ends stop together (the group is the one this function started, killed by its id).
 */
export async function startSubToKcat (mqttPort: number, filter: string, broker: string, topic: string): Promise<{ close: () => Promise<void> }> {
  const cmd = `exec mosquitto_sub -h 127.0.0.1 -p ${mqttPort} -V mqttv5 -i bench-sub -q 1 -t '${filter}' | kcat -P -b ${broker} -t ${topic} -X acks=all -X linger.ms=5 -q`
  const child = spawn('sh', ['-c', cmd], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.resume()
  await new Promise((resolve) => setTimeout(resolve, 1000)) // subscribed and kcat connected
  if (child.exitCode !== null) throw new Error(`mosquitto_sub | kcat exited (${child.exitCode})`)
  return {
    async close () {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      try { process.kill(-child.pid!, 'SIGTERM') } catch {}
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
      try { process.kill(-child.pid!, 'SIGKILL') } catch {}
    }
  }
}
