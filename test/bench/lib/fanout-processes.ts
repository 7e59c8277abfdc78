// The load processes of `pnpm bench fanout` (lib/fanout-load.ts), driven from the bench process: fleet-processes.ts'
// startLoadProcess forks fleet-load.ts by name, so this is its twin for the subscribing fleet.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FanoutConnectOrder, FanoutConnected, FanoutLoadResult, FanoutStatus } from './fanout-load.js'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const loadChild = fileURLToPath(new URL('./fanout-load.ts', import.meta.url))

export interface FanoutLoad {
  pid: number
  connect: (order: Omit<FanoutConnectOrder, 'type'>) => Promise<FanoutConnected>
  /** The measured window on fanout-wire's clock: deliveries and event-loop use inside it are counted apart. */
  window: (start: number, end: number) => void
  status: () => Promise<FanoutStatus>
  result: () => Promise<FanoutLoadResult>
  close: () => Promise<void>
}

/** One load process, forked with IPC in advanced serialisation (its latencies come back as a Float32Array). */
export async function startFanoutLoad (): Promise<FanoutLoad> {
  const child = fork(loadChild, [], { cwd: repo, execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const next = <T>(type: string): Promise<T> => new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }): void => { if (m.type === type) { child.off('message', onMessage); child.off('exit', onExit); resolve(m as T) } }
    const onExit = (code: number | null): void => { child.off('message', onMessage); reject(new Error(`fanout load process exited (${code}) waiting for ${type}`)) }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
  const ask = async <T>(type: string): Promise<T> => { const r = next<T>(type); child.send({ type }); return await r }
  await next('ready')
  return {
    pid: child.pid!,
    async connect (order) { const r = next<FanoutConnected>('connected'); child.send({ type: 'connect', ...order }); return await r },
    window (start, end) { child.send({ type: 'window', start, end }) },
    status: async () => await ask<FanoutStatus>('status'),
    result: async () => await ask<FanoutLoadResult>('result'),
    async close () {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.send({ type: 'close' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}
