import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { StoredResource } from './types.js'
import { FG_ERR_SECRET_KEY_INVALID } from './errors.js'

const PREFIX = 'sealed:v1:'

/**
 * The key that seals Secret values at rest: `FLOWGATE_SECRET_KEY` (32 bytes, base64 or hex), or one generated into
 * `<dataDir>/secret.key` (mode 0600) on first use. Losing the key loses the secrets; that is the point.
 */
export async function loadSecretKey ({ dataDir, env = process.env }: { dataDir: string, env?: NodeJS.ProcessEnv }): Promise<Buffer> {
  const given = env.FLOWGATE_SECRET_KEY
  if (given !== undefined && given !== '') {
    const key = /^[0-9a-fA-F]{64}$/.test(given) ? Buffer.from(given, 'hex') : Buffer.from(given, 'base64')
    if (key.length !== 32) throw FG_ERR_SECRET_KEY_INVALID('FLOWGATE_SECRET_KEY')
    return key
  }
  const path = join(dataDir, 'secret.key')
  try {
    const key = Buffer.from((await readFile(path, 'utf8')).trim(), 'base64')
    if (key.length !== 32) throw FG_ERR_SECRET_KEY_INVALID(path)
    return key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    await mkdir(dataDir, { recursive: true })
    const key = randomBytes(32)
    await writeFile(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
    return key
  }
}

/** One base64 `data` value → `sealed:v1:<base64(iv ‖ tag ‖ ciphertext)>` (AES-256-GCM, a fresh IV each time). */
function sealValue (value: string, key: Buffer, aad: string): string {
  if (value.startsWith(PREFIX)) return value
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  // The secret's identity as associated data: a sealed value moved to another secret or key fails to open.
  cipher.setAAD(Buffer.from(aad))
  const body = Buffer.concat([cipher.update(Buffer.from(value, 'base64')), cipher.final()])
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')
}

function openValue (value: string, key: Buffer, aad: string): string {
  if (!value.startsWith(PREFIX)) return value
  const raw = Buffer.from(value.slice(PREFIX.length), 'base64')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
  decipher.setAAD(Buffer.from(aad))
  decipher.setAuthTag(raw.subarray(12, 28))
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('base64')
}

const aadOf = (s: StoredResource, k: string): string => `${s.metadata.namespace}/${s.metadata.name}/${k}`

function mapData (s: StoredResource, f: (v: string, k: string) => string): StoredResource {
  return { ...s, data: Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, f(v, k)])) }
}

/** The Secret with every `data` value sealed; `stringData` must already be folded into `data` (base64). */
export function sealSecret (secret: StoredResource, key: Buffer): StoredResource {
  return mapData(secret, (v, k) => sealValue(v, key, aadOf(secret, k)))
}

/** The Secret with its `data` values back in plain base64. */
export function openSecret (secret: StoredResource, key: Buffer): StoredResource {
  return mapData(secret, (v, k) => openValue(v, key, aadOf(secret, k)))
}

export function secretKeys (secret: StoredResource): string[] {
  return Object.keys(secret.data ?? {})
}
