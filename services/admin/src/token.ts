import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { adminDefaults } from './options.js'

/**
 * The admin token (DESIGN §3): FLOWGATE_ADMIN_TOKEN, else `<dataDir>/admin-token`, generated on first start with
 * mode 0600 and shown once in the log so the person who started Flowgate can use it; later starts only name the file.
 */
export async function loadAdminToken (dataDir: string, env: NodeJS.ProcessEnv, log?: Logger): Promise<{ token: string, source: 'env' | 'file' | 'generated' }> {
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
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return await loadAdminToken(dataDir, env, log)
    throw err
  }
  log?.warn({ file }, `admin token generated (shown once; also in ${file}): ${token}`)
  return { token, source: 'generated' }
}
