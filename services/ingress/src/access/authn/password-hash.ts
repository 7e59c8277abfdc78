import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/**
 * Password hashes for the UsernamePassword method, in one self-describing string a Secret can hold:
 * `scrypt$N$r$p$<salt base64>$<hash base64>`. scrypt because node:crypto has it (no native add-on) and it is
 * memory-hard; the parameters travel with each hash so they can be raised later without breaking stored ones.
 */
const PREFIX = 'scrypt'
const DEFAULTS = { N: 16384, r: 8, p: 1, keyLength: 32, saltLength: 16 }
// N·r·128 bytes per hash: 16 MiB at the defaults; refuse stored parameters that would ask for far more.
const MAX_MEMORY = 64 * 1024 * 1024

function scryptAsync (password: Buffer, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keyLength, options, (err, key) => err ? reject(err) : resolve(key)))
}

export async function hashPassword (password: string | Buffer, options: Partial<typeof DEFAULTS> = {}): Promise<string> {
  const o = { ...DEFAULTS, ...options }
  const salt = randomBytes(o.saltLength)
  const key = await scryptAsync(Buffer.from(password), salt, o.keyLength, { N: o.N, r: o.r, p: o.p, maxmem: MAX_MEMORY + 1024 * 1024 })
  return [PREFIX, o.N, o.r, o.p, salt.toString('base64'), key.toString('base64')].join('$')
}

export interface ParsedHash { N: number, r: number, p: number, salt: Buffer, key: Buffer }

/** The hash's parts, or undefined when it is not a hash this module writes (a plain password, a typo). */
export function parsePasswordHash (encoded: string): ParsedHash | undefined {
  const parts = encoded.trim().split('$')
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || (N & (N - 1)) !== 0 || 128 * N * r > MAX_MEMORY) return undefined
  const salt = Buffer.from(parts[4]!, 'base64')
  const key = Buffer.from(parts[5]!, 'base64')
  if (salt.length === 0 || key.length < 16) return undefined
  return { N, r, p, salt, key }
}

/** Constant-time check of `password` against a parsed hash. */
export async function verifyPassword (password: Buffer, hash: ParsedHash): Promise<boolean> {
  const key = await scryptAsync(password, hash.salt, hash.key.length, { N: hash.N, r: hash.r, p: hash.p, maxmem: MAX_MEMORY + 1024 * 1024 })
  return timingSafeEqual(key, hash.key)
}
