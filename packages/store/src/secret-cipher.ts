import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { StoredResource } from './types.js'
import { FG_ERR_SECRET_KEY_INVALID, FG_ERR_SECRET_KEY_MISMATCH, FG_ERR_SECRET_UNREADABLE } from './errors.js'
import { syncDir } from './atomic-file.js'
import { DEFAULT_NAMESPACE } from './versioning.js'

/**
 * How a sealed value looks in a stored Secret's `data`: `sealed:A256GCM:<kid>:<base64(iv ‖ tag ‖ ciphertext)>`,
 * AES-256-GCM with a fresh 12-byte IV per value. `kid` is the first 8 bytes of SHA-256 of the key (hex), so a
 * wrong key is told apart from altered data. Values stay under their own keys so that the stored object keeps the
 * Kubernetes shape (reads list the keys; the admin API's read view and validation need nothing else).
 */
export const SEALED_PREFIX = 'sealed:A256GCM:'

export const SECRET_KEY_VARIABLE = 'FLOWGATE_SECRET_KEY'

function decodeKey (text: string): Buffer | undefined {
  const t = text.trim()
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex')
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined
  const key = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64')
  return key.length === 32 ? key : undefined
}

/**
 * The key that seals Secret values at rest: `FLOWGATE_SECRET_KEY` (32 bytes as base64 or 64 hex digits), else
 * `<dataDir>/secret.key`, generated on first use with mode 0600. Losing the key loses the secrets: back it up with
 * the data directory, or give it through the environment (as several admin replicas on PostgreSQL must).
 */
export async function loadSecretKey ({ dataDir, env = process.env }: { dataDir: string, env?: NodeJS.ProcessEnv }): Promise<Buffer> {
  const given = env[SECRET_KEY_VARIABLE]
  if (given !== undefined && given !== '') {
    const key = decodeKey(given)
    if (key === undefined) throw FG_ERR_SECRET_KEY_INVALID(SECRET_KEY_VARIABLE)
    return key
  }
  const path = join(dataDir, 'secret.key')
  for (;;) {
    try {
      const key = decodeKey(await readFile(path, 'utf8'))
      if (key === undefined) throw FG_ERR_SECRET_KEY_INVALID(path)
      return key
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    // Written whole before it appears (link refuses to replace): two processes starting at once agree on one key.
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    await writeFile(tmp, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flush: true })
    try {
      await link(tmp, path)
      await syncDir(dataDir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    } finally {
      await unlink(tmp).catch(() => {})
    }
  }
}

const keyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16)
const nameOf = (s: StoredResource): string => `${s.metadata.namespace ?? DEFAULT_NAMESPACE}/${s.metadata.name}`
/** Associated data: the secret's identity and the value's key, so a sealed value moved elsewhere fails to open. */
const aad = (s: StoredResource, k: string): Buffer => Buffer.from(JSON.stringify(['Secret', nameOf(s), k]))

export const isSealedValue = (v: unknown): boolean => typeof v === 'string' && v.startsWith(SEALED_PREFIX)

function sealValue (secret: StoredResource, k: string, base64: string, key: Buffer): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad(secret, k))
  const plaintext = Buffer.from(base64, 'base64')
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  plaintext.fill(0)
  return `${SEALED_PREFIX}${keyId(key)}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`
}

function openValue (secret: StoredResource, k: string, value: string, key: Buffer): Buffer {
  if (!isSealedValue(value)) return Buffer.from(value, 'base64') // written before sealing, or by hand
  const rest = value.slice(SEALED_PREFIX.length)
  const colon = rest.indexOf(':')
  if (rest.slice(0, colon) !== keyId(key)) throw FG_ERR_SECRET_KEY_MISMATCH(nameOf(secret))
  try {
    const raw = Buffer.from(rest.slice(colon + 1), 'base64')
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    decipher.setAAD(aad(secret, k))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()])
  } catch (err) {
    throw FG_ERR_SECRET_UNREADABLE(nameOf(secret), err)
  }
}

type WithStringData = StoredResource & { stringData?: Record<string, string> }

/** data and stringData as Kubernetes folds them: stringData (UTF-8 text) wins over the same key in data (base64). */
function folded (secret: WithStringData): Record<string, string> {
  const values: Record<string, string> = { ...(secret.data ?? {}) }
  for (const [k, v] of Object.entries(secret.stringData ?? {})) values[k] = Buffer.from(v, 'utf8').toString('base64')
  return values
}

/**
 * The Secret as the store keeps it: `stringData` folded into `data`, and every `data` value sealed (a value already
 * sealed is kept as it is). A Secret with nothing to seal is returned unchanged.
 */
export function sealSecret (secret: StoredResource, key: Buffer): StoredResource {
  const { stringData, ...rest } = secret as WithStringData
  if (secret.data === undefined && stringData === undefined) return secret
  const data = Object.fromEntries(Object.entries(folded(secret)).map(([k, v]) => [k, isSealedValue(v) ? v : sealValue(secret, k, v, key)]))
  return { ...rest, data }
}

/** The Secret with its values back in `data` as base64, as it was written: the inverse of sealSecret. */
export function openSecret (secret: StoredResource, key: Buffer): StoredResource {
  const { stringData: _s, ...rest } = secret as WithStringData
  const values = secretValues(secret, key)
  return { ...rest, data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.toString('base64')])) }
}

/** The Secret's values as bytes, by name: what the runtime hands to SASL and TLS. */
export function secretValues (secret: StoredResource, key: Buffer): Record<string, Buffer> {
  const out: Record<string, Buffer> = {}
  for (const [k, v] of Object.entries(folded(secret))) out[k] = openValue(secret, k, v, key)
  return out
}

/** The names of a Secret's values, never the values: what reads return. */
export function secretKeys (secret: StoredResource): string[] {
  return Object.keys(folded(secret))
}
