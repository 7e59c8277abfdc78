import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'

/**
 * A PostgreSQL for tests: `FLOWGATE_TEST_PG_URL` when set (a server someone else runs; its user may create
 * databases), else a throwaway server of Debian's packages started here (initdb into a temp dir, trust auth,
 * loopback only, a free port) and removed at stop. Each test gets its own database from `createDatabase`.
 */
export interface TestPostgres {
  createDatabase: () => Promise<string>
  stop: () => Promise<void>
}

function binDir (): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : []
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin')
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install them with `apt-get install -y postgresql` (or set FLOWGATE_TEST_PG_URL to a server that may create databases)')
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` user the Debian package creates. */
function asServerUser (): { wrap: (cmd: string, args: string[]) => [string, string[]], uid?: number, gid?: number } {
  if (process.getuid?.() !== 0) return { wrap: (cmd, args) => [cmd, args] }
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
  return { wrap: (cmd, args) => ['setpriv', ['--reuid', String(uid), '--regid', String(gid), '--init-groups', '--', cmd, ...args]], uid, gid }
}

function adminUrl (url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

async function withClient<T> (url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try { return await work(client) } finally { await client.end() }
}

export async function startTestPostgres (options: { fsync?: boolean } = {}): Promise<TestPostgres> {
  const given = process.env.FLOWGATE_TEST_PG_URL
  const created: string[] = []
  const createDatabase = (base: string) => async (): Promise<string> => {
    const name = `fg_${randomBytes(6).toString('hex')}`
    await withClient(base, async (c) => { await c.query(`CREATE DATABASE ${name}`) })
    created.push(name)
    return adminUrl(base, name)
  }
  if (given !== undefined && given !== '') {
    return {
      createDatabase: createDatabase(given),
      stop: async () => {
        await withClient(given, async (c) => { for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }).catch(() => {})
      }
    }
  }

  const bin = binDir()
  const user = asServerUser()
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-pg-'))
  if (user.uid !== undefined) await chown(dir, user.uid, user.gid!)
  const data = join(dir, 'data')
  const run = async (cmd: string, args: string[]): Promise<void> => {
    const [c, a] = user.wrap(cmd, args)
    await new Promise<void>((resolve, reject) => {
      const child = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'] })
      let err = ''
      child.stderr.on('data', (d: Buffer) => { err += d.toString() })
      child.once('error', reject)
      child.once('exit', (code) => code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`)))
    })
  }
  await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'])
  const port = await freePort()
  const [c, a] = user.wrap(join(bin, 'postgres'), ['-D', data, '-k', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1',
    '-c', `fsync=${options.fsync === true ? 'on' : 'off'}`, '-c', 'max_connections=200'])
  const server: ChildProcess = spawn(c, a, { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  server.stderr!.on('data', (d: Buffer) => { log += d.toString() })
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()))
  const base = `postgres://postgres@127.0.0.1:${port}/postgres`
  const stop = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGINT') // fast shutdown: disconnects clients, no waiting on them
      await exited
    }
    await rm(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      await withClient(base, async (client) => { await client.query('SELECT 1') })
      break
    } catch (err) {
      if (server.exitCode !== null || Date.now() > deadline) {
        await stop()
        throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${log}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return { createDatabase: createDatabase(base), stop }
}
