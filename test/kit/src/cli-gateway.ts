import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { eventually } from './eventually.js'
import { workerFlags } from './workers-gateway.js'

const CLI = fileURLToPath(new URL('../../../services/cli/bin/flowgate.mjs', import.meta.url))

export interface CliGateway {
  proc: ChildProcess
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Resolves once `/readyz` answers 200 (the dataflows reconciled, the listeners open). */
  ready: () => Promise<void>
}

/**
 * `flowgate start` as a child process on the given ports and data directory — what fault tests SIGTERM, SIGKILL and
 * start again on the same ports and data dir. Its output goes to `log` (shown when a wait times out); it is killed at
 * the test's end if still running. With FLOWGATE_TEST_WORKERS=N it is `--workers N`, the data directory's own
 * PostgreSQL database and Redis, the same again when started again on that directory.
 */
export async function startCliGateway (t: Test, opts: { dataDir: string, httpPort: number, mqttPort: number, log: string[], name: string, args?: string[] }): Promise<CliGateway> {
  const workers = await workerFlags(t, opts.dataDir)
  // The child gets its settings from the flags alone: no FLOWGATE_* of the test's environment (a token, a store).
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWGATE_')))
  const proc = spawn(process.execPath, [CLI, 'start', '--host', '127.0.0.1', '--http-port', String(opts.httpPort), '--mqtt-port', String(opts.mqttPort), '--data-dir', opts.dataDir, '--log-level', workers === undefined ? 'warn' : 'info', ...(workers ?? []), ...(opts.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout!.on('data', (b: Buffer) => opts.log.push(`[${opts.name}] ${b.toString()}`))
  proc.stderr!.on('data', (b: Buffer) => opts.log.push(`[${opts.name}] ${b.toString()}`))
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => {
    opts.log.push(`[${opts.name}] exited ${code ?? signal}\n`)
    resolve({ code, signal })
  }))
  t.teardown(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGKILL')
    await exited
  })
  const ready = async (): Promise<void> => {
    await eventually(async () => (await fetch(`http://127.0.0.1:${opts.httpPort}/readyz`).catch(() => undefined))?.ok === true ? true : undefined, 60_000, `the gateway process ready: ${opts.log.join('')}`)
    // One worker answers /readyz as soon as it alone is; the primary says when all are.
    if (workers !== undefined) await eventually(async () => opts.log.join('').includes('flowgate listening with') ? true : undefined, 60_000, `every worker ready: ${opts.log.join('')}`)
  }
  return { proc, exited, ready }
}
