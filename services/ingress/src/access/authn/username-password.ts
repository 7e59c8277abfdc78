import { randomBytes } from 'node:crypto'
import { ReasonCode, type AuthenticationMethod, type AuthnOutcome, type Credentials } from '../types.js'
import { parsePasswordHash, verifyPassword, type ParsedHash } from './password-hash.js'

export interface UsernamePasswordSettings {
  /** The Secret's decoded data: user name → scrypt hash string (`flowgate passwd`). */
  users: Record<string, string>
  /** `usernamePasswordSettings.userAttributes`: user name → authorization attributes. */
  userAttributes?: Record<string, Record<string, string>>
}

export interface UsernamePasswordAuthentication extends AuthenticationMethod {
  /** Users whose stored value is not a hash: they cannot log in; the listener status should name them. */
  invalidUsers: () => string[]
}

/** Left to the ServiceAccountToken method, as AIO's older clients name themselves (see service-account-token.ts). */
const SAT_USERNAME_PREFIX = 'K8S-SAT'

/**
 * Flowgate's UsernamePassword method (not in AIO; what Mosquitto and EMQX users expect). Relevant when CONNECT has a
 * user name and no MQTT 5 authentication method; a user name starting with `K8S-SAT` that is not a configured user
 * is left to the ServiceAccountToken method.
 *
 * An unknown user costs the same scrypt work as a known one (a hash against a dummy with the users' usual
 * parameters), so response times do not reveal who exists. A stored value that does not parse as a hash is never
 * compared as a plain password: that user cannot log in.
 */
export function createUsernamePasswordAuthentication (settings: UsernamePasswordSettings): UsernamePasswordAuthentication {
  // Maps, not the records: a user named `constructor` or `__proto__` must not find Object.prototype's members.
  const hashes = new Map<string, ParsedHash>()
  const invalid: string[] = []
  for (const [username, stored] of Object.entries(settings.users)) {
    const parsed = parsePasswordHash(stored)
    if (parsed === undefined) invalid.push(username)
    else hashes.set(username, parsed)
  }
  const attributes = new Map(Object.entries(settings.userAttributes ?? {}))
  const configured = new Set(Object.keys(settings.users))
  const dummy = dummyHash([...hashes.values()])

  return {
    method: 'UsernamePassword',
    invalidUsers: () => [...invalid].sort(),
    async authenticate (credentials: Credentials): Promise<AuthnOutcome> {
      const { username, password } = credentials
      if (username === undefined || credentials.authenticationMethod !== undefined) return { kind: 'irrelevant' }
      if (username.startsWith(SAT_USERNAME_PREFIX) && !configured.has(username)) return { kind: 'irrelevant' }

      const hash = hashes.get(username)
      // Always one scrypt run, whatever the case, before any answer.
      const matches = await verifyPassword(password ?? Buffer.alloc(0), hash ?? dummy)
      if (hash === undefined) {
        return refuse(configured.has(username) ? `user ${username}: the stored password is not a valid hash, so it cannot log in` : `unknown user ${username}`)
      }
      if (password === undefined) return refuse(`user ${username}: no password`)
      if (!matches) return refuse(`user ${username}: wrong password`)
      return { kind: 'pass', principal: { clientId: credentials.clientId, username, attributes: { ...(attributes.get(username) ?? {}) } } }
    }
  }
}

function refuse (message: string): AuthnOutcome {
  return { kind: 'fail', reasonCode: ReasonCode.BAD_USERNAME_OR_PASSWORD, message }
}

/**
 * A hash nothing matches (random salt and key), with the parameters most users' hashes have, so checking against it
 * takes as long as checking against theirs. With no valid users, password-hash.ts's defaults.
 */
function dummyHash (hashes: ParsedHash[]): ParsedHash {
  const counts = new Map<string, { hash: ParsedHash, n: number }>()
  for (const h of hashes) {
    const key = `${h.N}:${h.r}:${h.p}:${h.key.length}`
    const entry = counts.get(key) ?? { hash: h, n: 0 }
    entry.n++
    counts.set(key, entry)
  }
  const common = [...counts.values()].sort((a, b) => b.n - a.n)[0]?.hash
  return { N: common?.N ?? 16384, r: common?.r ?? 8, p: common?.p ?? 1, salt: randomBytes(16), key: randomBytes(common?.key.length ?? 32) }
}
