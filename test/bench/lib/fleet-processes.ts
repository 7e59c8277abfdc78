// The processes of the fleet bench besides the gateway (which `startChildGateway` starts): aedes alone with node
// flags of the bench's choosing (the probe preload, `--cpu-prof`), the load processes, and the file-descriptor limit
// they all inherit.
import { fork, spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gatewayNodeFlags } from '../../../services/cli/src/node-flags.js'
import type { FleetConnectOrder, FleetConnected, FleetLoadResult, FleetPublishOrder } from './fleet-load.js'
import { stop } from './processes.js'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const ingressChild = fileURLToPath(new URL('./ingress-child.ts', import.meta.url))
const loadChild = fileURLToPath(new URL('./fleet-load.ts', import.meta.url))
export const probePreload = fileURLToPath(new URL('./fleet-probe.mjs', import.meta.url))

/**
 * Raises this process' open-file limit (soft and hard) as far as the kernel lets it — 1,048,576 when allowed
 * (CAP_SYS_RESOURCE), else the hard limit — so the broker and load processes it starts inherit it. Returns the limit.
 */
export function raiseFileLimit (wanted = 1_048_576): number {
  try { execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${wanted}:${wanted}`], { stdio: 'ignore' }) } catch {}
  const limits = readFileSync('/proc/self/limits', 'utf8')
  const m = /^Max open files\s+(\d+)\s+(\d+)/m.exec(limits)
  const [soft, hard] = [Number(m?.[1] ?? 1024), Number(m?.[2] ?? 1024)]
  if (soft < hard) { try { execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore' }) } catch {} }
  return Math.max(soft, hard)
}

/** services/ingress alone (aedes, no interceptor: PUBACK at once) with the gateway's V8 flags and `nodeArgs`. */
export async function startFleetAedes (nodeArgs: string[], env: NodeJS.ProcessEnv): Promise<{ pid: number, mqttPort: number, close: () => Promise<void> }> {
  const child = spawn(process.execPath, [...gatewayNodeFlags, ...nodeArgs, '--import', 'tsx', ingressChild], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const mqttPort = await new Promise<number>((resolve, reject) => {
    let buf = ''
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      const line = buf.split('\n').find((l) => l.startsWith('{'))
      if (line) resolve((JSON.parse(line) as { mqttPort: number }).mqttPort)
    })
    child.once('exit', (code) => reject(new Error(`aedes alone exited (${code}) during start-up: ${stderr}`)))
  })
  child.stdout!.resume()
  return { pid: child.pid!, mqttPort, close: async () => { await stop(child) } }
}

export interface LoadProcess {
  pid: number
  connect: (order: Omit<FleetConnectOrder, 'type'>) => Promise<FleetConnected>
  publish: (order: Omit<FleetPublishOrder, 'type'>) => Promise<FleetLoadResult>
  close: () => Promise<void>
}

/** One load process (lib/fleet-load.ts), forked with IPC in advanced serialisation (its latencies come back typed). */
export async function startLoadProcess (): Promise<LoadProcess> {
  const child = fork(loadChild, [], { cwd: repo, execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = <T>(type: string): Promise<T> => new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }): void => { if (m.type === type) { child.off('message', onMessage); child.off('exit', onExit); resolve(m as T) } }
    const onExit = (code: number | null): void => { child.off('message', onMessage); reject(new Error(`load process exited (${code}) waiting for ${type}`)) }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
  await next('ready')
  return {
    pid: child.pid!,
    async connect (order) { const r = next<FleetConnected>('connected'); child.send({ type: 'connect', ...order }); return await r },
    async publish (order) { const r = next<FleetLoadResult>('result'); child.send({ type: 'publish', ...order }); return await r },
    async close () {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: 'close' })
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
    }
  }
}
