import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { pino } from 'pino'
import { startAdmin, type Admin } from '@flowgate/admin'
import { seedExample } from '@flowgate/testkit'

const bin = fileURLToPath(new URL('../bin/flowgate.mjs', import.meta.url))

export interface Run { code: number | null, stdout: string, stderr: string }

export interface CliRig {
  admin: Admin
  dir: string
  /** Runs the real `flowgate` command, pointed at the admin API through its environment twins. */
  flowgate: (args: string[], options?: { stdin?: string, env?: NodeJS.ProcessEnv }) => Promise<Run>
}

export async function cliRig (t: Test): Promise<CliRig> {
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-cli-'))
  const admin = await startAdmin({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), env: { FLOWGATE_ADMIN_TOKEN: 'cli-token', FLOWGATE_STORE: 'file' }, logger: pino({ level: 'silent' }) })
  t.teardown(async () => {
    await admin.close()
    await rm(dir, { recursive: true, force: true })
  })
  const flowgate: CliRig['flowgate'] = async (args, options = {}) => await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, FLOWGATE_SERVER: admin.url, FLOWGATE_ADMIN_TOKEN: 'cli-token', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.stdin ?? '')
  })
  return { admin, dir, flowgate }
}

/** A seed example with the page's placeholders filled in, as a user would apply it (raw: `seedExample(name, { filled: false })`). */
export const seedFixture = (name: string): string => seedExample(name)

export async function dumpDir (dir: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises')
  let all = ''
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) all += await readFile(join(entry.parentPath, entry.name), 'latin1')
  }
  return all
}
