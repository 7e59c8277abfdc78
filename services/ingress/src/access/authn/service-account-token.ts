import { stat, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type LocalJWKSet } from 'jose'
import { ReasonCode, type AuthenticationMethod, type AuthnOutcome, type Credentials } from '../types.js'

export interface ServiceAccountTokenSettings {
  /** A token passes when its `aud` names at least one of these. */
  audiences: string[]
  /** Flowgate: the issuer's public keys, `file:///…/jwks.json` or https:// (a cluster's `/openid/v1/jwks`). */
  jwksUri?: string
  /** Flowgate: the `iss` tokens must carry, when set. */
  issuer?: string
}

/** The MQTT 5 authentication method, and the user-name prefix older clients use instead (AIO's convention). */
export const SAT_METHOD = 'K8S-SAT'

/**
 * Flowgate's stand-in, off a cluster, for AIO's `aio-broker-auth/` service-account annotations: a claim holding an
 * object of strings becomes the principal's authorization attributes. Whoever signs the tokens decides them.
 */
export const ATTRIBUTES_CLAIM = 'flowgate.dev/attributes'

// Public-key algorithms only: a JWKS is public, so a shared-secret (HS*) key in it would let anyone sign.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']

/**
 * AIO's ServiceAccountToken method (`K8S-SAT`). On Kubernetes AIO asks the API server (TokenReview); off a cluster
 * Flowgate verifies the JWT itself against the issuer's JWKS, with `jose`.
 *
 * Relevant when CONNECT's authentication method is `K8S-SAT` (token in the authentication data), or, for clients
 * without MQTT 5 enhanced authentication, when there is none and the user name starts with `K8S-SAT` (token in the
 * password). Any failed check fails with 0x86 and says which check in the message; a JWKS that cannot be read fails
 * with 0x88 (server unavailable): the device's token may be fine.
 */
export function createServiceAccountTokenAuthentication (settings: ServiceAccountTokenSettings, deps: { now?: () => number } = {}): AuthenticationMethod {
  const now = deps.now ?? Date.now
  const keys = settings.jwksUri === undefined ? undefined : keySource(settings.jwksUri)

  return {
    method: 'ServiceAccountToken',
    async authenticate (credentials: Credentials): Promise<AuthnOutcome> {
      const token = presentedToken(credentials)
      if (token === undefined) return { kind: 'irrelevant' }
      if (keys === undefined) {
        return badToken('serviceAccountTokenSettings.jwksUri is needed off Kubernetes: there is no TokenReview API to ask, so the issuer\'s keys must be given')
      }
      if (token === '') return badToken('no token: K8S-SAT needs the token in the authentication data (MQTT 5) or the password')
      let payload: JWTPayload
      try {
        ({ payload } = await jwtVerify(token, keys, {
          audience: settings.audiences,
          ...(settings.issuer !== undefined ? { issuer: settings.issuer } : {}),
          currentDate: new Date(now()),
          // A token without exp would never need renewing; without sub there is no one to name.
          requiredClaims: ['exp', 'sub'],
          algorithms: ALGORITHMS
        }))
      } catch (err) {
        return refusal(err, settings)
      }
      return {
        kind: 'pass',
        principal: { clientId: credentials.clientId, username: payload.sub!, attributes: attributesClaim(payload[ATTRIBUTES_CLAIM]) },
        expiresAt: payload.exp! * 1000
      }
    }
  }
}

/** The token, `''` when relevant but absent, undefined when the credentials are not K8S-SAT ones. */
function presentedToken (credentials: Credentials): string | undefined {
  if (credentials.authenticationMethod === SAT_METHOD) return credentials.authenticationData?.toString('utf8') ?? ''
  if (credentials.authenticationMethod === undefined && credentials.username?.startsWith(SAT_METHOD) === true) {
    return credentials.password?.toString('utf8') ?? ''
  }
  return undefined
}

/** A failure to get the keys, as opposed to a token the keys reject. */
class KeySourceError extends Error {}

function keySource (jwksUri: string): JWTVerifyGetKey {
  const url = new URL(jwksUri)
  const source = url.protocol === 'file:' ? fileKeySet(fileURLToPath(url)) : url.protocol === 'https:' ? createRemoteJWKSet(url) : undefined
  if (source === undefined) throw new Error(`serviceAccountTokenSettings.jwksUri must be file:// or https://, not ${url.protocol}//`)
  return async (header, token) => {
    try {
      return await source(header, token)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      // No matching key is the token's problem (signed by someone else); anything else is the key source's.
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw err
      throw new KeySourceError(`K8S-SAT: cannot get the keys from ${jwksUri}: ${describeError(err)}`, { cause: err })
    }
  }
}

/**
 * Keys from a JWKS file, read again whenever the file changes (inode, size, modification or change time) so a
 * rotated key works without a restart; a ConfigMap mount swaps a symlink, which changes the inode.
 */
function fileKeySet (path: string): JWTVerifyGetKey {
  let cached: { stamp: string, keys: LocalJWKSet } | undefined
  return async (header, token) => {
    const s = await stat(path, { bigint: true })
    const stamp = `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
    if (cached?.stamp !== stamp) {
      const keys = createLocalJWKSet(JSON.parse(await readFile(path, 'utf8')))
      cached = { stamp, keys }
    }
    return cached.keys(header, token)
  }
}

function refusal (err: unknown, settings: ServiceAccountTokenSettings): AuthnOutcome {
  if (err instanceof KeySourceError) return { kind: 'fail', reasonCode: ReasonCode.SERVER_UNAVAILABLE, message: err.message }
  const e = err as { code?: unknown, claim?: unknown, reason?: unknown, payload?: JWTPayload, message?: unknown }
  const message = typeof e.message === 'string' ? e.message : String(err)
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return badToken(`token expired${typeof e.payload?.exp === 'number' ? ` at ${new Date(e.payload.exp * 1000).toISOString()}` : ''}`)
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.reason === 'missing') return badToken(`token has no ${String(e.claim)} claim`)
      if (e.claim === 'aud') return badToken(`wrong audience: token is for ${JSON.stringify(e.payload?.aud)}, accepted: ${JSON.stringify(settings.audiences)}`)
      if (e.claim === 'iss') return badToken(`wrong issuer: ${JSON.stringify(e.payload?.iss)}, expected ${JSON.stringify(settings.issuer)}`)
      if (e.claim === 'nbf') return badToken(`token not valid yet (nbf ${JSON.stringify(e.payload?.nbf)})`)
      return badToken(`claim ${String(e.claim)} failed: ${message}`)
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return badToken('bad signature: the token was not signed by the JWKS key it names')
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return badToken('bad signature: no key in the JWKS matches the token\'s kid and alg (signed by another issuer, or a key since rotated out)')
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return badToken(`algorithm not allowed: ${message}`)
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return badToken(`not a valid JWT: ${message}`)
    default:
      return badToken(`token refused: ${message}`)
  }
}

function badToken (message: string): AuthnOutcome {
  return { kind: 'fail', reasonCode: ReasonCode.BAD_USERNAME_OR_PASSWORD, message: `K8S-SAT: ${message}` }
}

/** The error's message with the code of its cause (fetch's "fetch failed" hides ECONNREFUSED in it). */
function describeError (err: unknown): string {
  const e = err as { message?: unknown, code?: unknown, cause?: { code?: unknown, message?: unknown } }
  const message = typeof e.message === 'string' ? e.message : String(err)
  const cause = typeof e.cause?.code === 'string' ? e.cause.code : typeof e.cause?.message === 'string' ? e.cause.message : undefined
  return cause !== undefined ? `${message} (${cause})` : message
}

function attributesClaim (claim: unknown): Record<string, string> {
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) return {}
  const entries = Object.entries(claim)
  return entries.every(([, v]) => typeof v === 'string') ? Object.fromEntries(entries) as Record<string, string> : {}
}
