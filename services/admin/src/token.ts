import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { adminDefaults } from './options.js'

/** Where a generated token may be shown: a person's terminal, never the structured log. */
export interface TokenTerminal {
  isTTY?: boolean
  write: (text: string) => unknown
}

/**
 * The admin token (DESIGN §3): FLOWGATE_ADMIN_TOKEN, else `<dataDir>/admin-token`, generated on first start with
 * mode 0600. The log only ever names the file: log lines travel to shippers and dashboards, where a bearer token
 * for the whole API must not. A generated token is shown once on `terminal` (stderr) when that is a TTY, i.e. to
 * the person who just started Flowgate; a service or container start leaves it in the file alone.
 */
export async function loadAdminToken (dataDir: string, env: NodeJS.ProcessEnv, log?: Logger, terminal: TokenTerminal = process.stderr): Promise<{ token: string, source: 'env' | 'file' | 'generated' }> {
  const fromEnv = env.FLOWGATE_ADMIN_TOKEN
  if (fromEnv !== undefined && fromEnv !== '') return { token: fromEnv, source: 'env' }
  const file = join(dataDir, adminDefaults.tokenFile)
  try {
    const token = (await readFile(file, 'utf8')).trim()
    if (token !== '') {
      log?.info({ file }, 'admin token read from file')
      return { token, source: 'file' }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dataDir, { recursive: true })
  const token = randomBytes(32).toString('base64url')
  // 'wx': two processes starting together must not overwrite each other's token.
  try {
    await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return await loadAdminToken(dataDir, env, log, terminal)
    throw err
  }
  const shown = terminal.isTTY === true
  if (shown) terminal.write(`\nFlowgate admin token (shown this once; also in ${file}):\n\n  ${token}\n\n`)
  log?.warn({ file }, `admin token generated into ${file} (mode 0600${shown ? '; also shown once on the terminal' : ''}); the log never holds it`)
  return { token, source: 'generated' }
}
