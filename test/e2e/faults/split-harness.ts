import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually, freePort, adminClient, type AdminClient } from '@flowgate/testkit'

// The split deployment for fault tests: admin (file store), ingress and egress instances as `flowgate <service>`
// processes, each restartable on its own ports. The egress reads resources through the admin API (--admin) and
// translates in process; a test picks `--shared` or not.

const CLI = fileURLToPath(new URL('../../../services/cli/bin/flowgate.mjs', import.meta.url))
export const NS = 'azure-iot-operations'
const TOKEN = 'split-fault-token-0123456789abcdef'
export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

export interface Service {
  proc: ChildProcess
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Resident memory (MB) from /proc, or undefined once gone. */
  rssMb: () => number | undefined
}

export interface SplitDeployment {
  admin: AdminClient
  mqttPort: number
  ingressHttp: number
  /** Every process' output, prefixed with its name. */
  log: string[]
  ingress: Service
  egress: Map<number, Service>
  /** Starts (again) the ingress on the same ports. */
  startIngress: () => Promise<Service>
  /** Starts (again) egress `id` on the same HTTP port, and waits until it is ready. */
  startEgress: (id: number) => Promise<Service>
  /** Resolves once egress `id` runs `count` dataflows. */
  egressRunning: (id: number, count: number) => Promise<void>
  deleteDataflow: (name: string) => Promise<number>
  /** Egress `id`'s HTTP port (/readyz, /metrics). */
  egressPort: (id: number) => number
  dataflowReady: (name: string) => Promise<void>
}

function spawnService (t: Test, name: string, args: string[], log: string[]): Service {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FLOWGATE_ADMIN_TOKEN: TOKEN, FLOWGATE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout!.on('data', (b: Buffer) => log.push(`[${name}] ${b.toString()}`))
  proc.stderr!.on('data', (b: Buffer) => log.push(`[${name}] ${b.toString()}`))
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGKILL')
    await exited
  })
  return {
    proc,
    exited,
    rssMb () {
      try {
        const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1]
        return kb === undefined ? undefined : Math.round(Number(kb) / 1024)
      } catch { return undefined }
    }
  }
}

export async function startSplit (t: Test, opts: { ingressArgs?: string[], egressArgs?: string[], egressCount?: number } = {}): Promise<SplitDeployment> {
  const [adminPort, mqttPort, ingressHttp] = [await freePort(), await freePort(), await freePort()]
  const egressPorts = new Map<number, number>()
  const dataDir = mkdtempSync(join(tmpdir(), 'fg-split-fault-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const log: string[] = []
  const adminProc = spawnService(t, 'admin', ['admin', '--http-port', String(adminPort), '--data-dir', dataDir, '--mqtt-host', `127.0.0.1:${mqttPort}`], log)
  const httpUp = async (port: number, svc: Service, what: string): Promise<void> => {
    await eventually(async () => {
      if (svc.proc.exitCode !== null) throw new Error(`${what} exited: ${log.join('')}`)
      return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true ? true : undefined
    }, 30_000, `${what} up: ${log.join('').slice(-2000)}`)
  }
  await httpUp(adminPort, adminProc, 'admin')
  const admin = adminClient(`http://127.0.0.1:${adminPort}`, TOKEN)

  const d: SplitDeployment = {
    admin,
    mqttPort,
    ingressHttp,
    log,
    ingress: undefined as unknown as Service,
    egress: new Map(),
    async startIngress () {
      d.ingress = spawnService(t, 'ingress', ['ingress', '--mqtt-port', String(mqttPort), '--http-port', String(ingressHttp), ...(opts.ingressArgs ?? [])], log)
      await httpUp(ingressHttp, d.ingress, 'ingress')
      return d.ingress
    },
    async startEgress (id) {
      let port = egressPorts.get(id)
      if (port === undefined) { port = await freePort(); egressPorts.set(id, port) }
      const svc = spawnService(t, `egress-${id}`, ['egress', '--admin', `http://127.0.0.1:${adminPort}`, '--mqtt', `mqtt://127.0.0.1:${mqttPort}`, '--instance-id', String(id), '--http-port', String(port), ...(opts.egressArgs ?? [])], log)
      d.egress.set(id, svc)
      await httpUp(port, svc, `egress-${id}`)
      return svc
    },
    async egressRunning (id, count) {
      const port = egressPorts.get(id)!
      await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)
        const body = res?.ok === true ? await res.json() as { running?: string[] } : undefined
        return (body?.running?.length ?? 0) >= count ? true : undefined
      }, 30_000, `egress-${id} running ${count} dataflow(s): ${log.join('').slice(-2000)}`)
    },
    egressPort: (id) => egressPorts.get(id)!,
    async deleteDataflow (name) {
      const res = await fetch(`${admin.base}/api/v1/namespaces/${NS}/dataflows/${name}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })
      return res.status
    },
    async dataflowReady (name) {
      await eventually(async () => (await admin.get(`/api/v1/namespaces/${NS}/dataflows/${name}`)).status === 200 ? true : undefined, 10_000, `dataflow ${name} stored`)
    }
  }
  await d.startIngress()
  return d
}

/** The egress' ledger from its /metrics (`aio_dataflow_messages_*` of one dataflow). */
export async function egressLedger (port: number, dataflow: string): Promise<{ received: number, sent: number, dropped: number, buffered: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const sum = (prefix: string): number => text.split('\n').filter((l) => l.startsWith(prefix) && l.includes(`dataflow="${dataflow}"`)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
  return { received: sum('aio_dataflow_messages_received_total{'), sent: sum('aio_dataflow_messages_sent_total{'), dropped: sum('aio_dataflow_messages_dropped_total{'), buffered: sum('aio_dataflow_messages_buffered{') }
}
