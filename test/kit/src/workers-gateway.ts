// FLOWGATE_TEST_WORKERS=N runs the e2e suite against `flowgate start --workers N` (issue 20: "--workers 2 passes the
// whole e2e suite"): every gateway a test starts becomes N worker processes sharing the ports, PostgreSQL as their
// store and Redis as their broker, instead of one gateway in the test's process. The tests do not change: they see
// the same ports, token and admin API.
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { eventually } from './eventually.js'
import { startTestPostgres, type TestPostgres } from './postgres.js'
import { startRedis } from './redis.js'
import { freePort } from './solo-broker.js'

const CLI = fileURLToPath(new URL('../../../services/cli/bin/flowgate.mjs', import.meta.url))

/** The worker count the suite runs with; 1 (the default) keeps the gateway in the test's process. */
export function testWorkers (): number {
  const n = Number(process.env.FLOWGATE_TEST_WORKERS ?? 1)
  return Number.isInteger(n) && n > 1 ? n : 1
}

/**
 * tap's root test, imported only when the suite runs with workers: importing tap starts its root test (and its 30 s
 * timeout) in any process, and the testkit is imported by the benches too.
 */
async function fileScope (): Promise<Pick<Test, 'teardown'>> {
  return (await import('tap')).default
}

let postgres: Promise<TestPostgres> | undefined
/** One PostgreSQL per test file (a database per gateway), stopped when the file's tests end. */
async function sharedPostgres (): Promise<TestPostgres> {
  postgres ??= startTestPostgres().then(async (pg) => { (await fileScope()).teardown(() => pg.stop()); return pg })
  return await postgres
}

/** Per data directory: a gateway started again on the same one (a restart test) finds the same store and broker. */
const backends = new Map<string, Promise<string[]>>()

/**
 * The flags that make a `flowgate start` a set of workers: the data directory's own database and Redis. Undefined
 * when the suite runs in-process gateways.
 */
export async function workerFlags (t: Test, dataDir: string): Promise<string[] | undefined> {
  const workers = testWorkers()
  if (workers === 1) return undefined
  let flags = backends.get(dataDir)
  if (flags === undefined) {
    // The Redis outlives the test that made it only as long as the file: restarts happen within one test.
    flags = (async () => ['--workers', String(workers), '--store', await (await sharedPostgres()).createDatabase(), '--persistence-url', (await startRedis(await fileScope())).url])()
    backends.set(dataDir, flags)
  }
  return await flags
}

/** `startTestGateway`'s options that have a `flowgate start` flag; any other is a test the workers cannot run as is. */
function optionFlags (extra: Record<string, unknown>): string[] {
  const flags: string[] = []
  for (const [key, value] of Object.entries(extra)) {
    if (key === 'instanceId') flags.push('--instance-id', String(value))
    else if (key === 'kafkaHostAliases') for (const [name, address] of Object.entries(value as Record<string, string>)) flags.push('--kafka-host-alias', `${name}=${address}`)
    else throw new Error(`FLOWGATE_TEST_WORKERS: the gateway option ${key} has no flowgate start flag`)
  }
  return flags
}

export interface WorkersGateway {
  http: { host: string, port: number }
  mqtt: { host: string, port: number }
  token: string
  close: () => Promise<void>
}

/** `flowgate start --workers N` on free loopback ports, ready once every worker is; stopped at the test's end. */
export async function startWorkersGateway (t: Test, extra: Record<string, unknown>): Promise<WorkersGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-e2e-workers-'))
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const token = randomBytes(24).toString('hex')
  const env: NodeJS.ProcessEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWGATE_'))), FLOWGATE_ADMIN_TOKEN: token }
  const args = [CLI, 'start', '--host', '127.0.0.1', '--http-port', String(httpPort), '--mqtt-port', String(mqttPort), '--data-dir', dataDir,
    '--log-level', process.env.FLOWGATE_TEST_LOG ?? 'info', ...(await workerFlags(t, dataDir))!, ...optionFlags(extra)]
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  // FLOWGATE_TEST_WORKERS_LOG=<file>: every worker's whole log there, to look at after the run.
  const logFile = process.env.FLOWGATE_TEST_WORKERS_LOG
  const keep = (b: Buffer): void => { log = (log + b.toString()).slice(-20_000); if (logFile) appendFileSync(logFile, b) }
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const close = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000)
      await exited
      clearTimeout(timer)
    }
  }
  t.teardown(async () => { await close(); rmSync(dataDir, { recursive: true, force: true }) })
  // The primary's line once every worker is ready (one worker answers /readyz as soon as it alone is).
  await eventually(async () => {
    if (proc.exitCode !== null) throw new Error(`flowgate start --workers exited (${proc.exitCode}): ${log}`)
    return log.includes('flowgate listening with') ? true : undefined
  }, 90_000, `the workers ready: ${log}`)
  return { http: { host: '127.0.0.1', port: httpPort }, mqtt: { host: '127.0.0.1', port: mqttPort }, token, close }
}
