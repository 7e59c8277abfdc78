import type { TokenCredential, AccessToken } from '@azure/identity'
import type { OauthbearerProviderResponse } from 'kafkajs'
import type { Logger } from 'pino'
import { defaults } from './options.js'

export interface TokenProviderOptions {
  logger?: Logger
  /** Share of a token's lifetime after which a fresh one is fetched (0.8). */
  refreshRatio?: number
  /** …or this long before expiry when that comes sooner (5 min); never before half the lifetime. */
  refreshMarginMs?: number
  now?: () => number
}

export interface CachingTokenProvider {
  (): Promise<OauthbearerProviderResponse>
  /** Number of tokens fetched from the credential so far (metrics, tests). */
  readonly fetches: number
  /** When the cached token will be replaced on the next call (epoch ms), or 0 when none is cached. */
  readonly refreshAt: number
}

/** When a token obtained at `obtainedAt` that expires at `expiresAt` should be replaced. */
export function refreshTime (obtainedAt: number, expiresAt: number, ratio: number = defaults.tokenRefreshRatio, marginMs: number = defaults.tokenRefreshMarginMs): number {
  const lifetime = Math.max(0, expiresAt - obtainedAt)
  const margin = Math.min(Math.max((1 - ratio) * lifetime, marginMs), lifetime / 2)
  return expiresAt - margin
}

/**
 * kafkajs' `oauthBearerProvider`: kafkajs calls it on every SASL (re)authentication of every connection, so the
 * token is cached and shared, and replaced *before* it expires — a connection that authenticates with a token
 * about to expire gets a session that ends with it (the broker caps the session at the token's `exp`).
 * Concurrent callers share one fetch. When a refresh fails while the cached token is still valid, that token is used.
 */
export function cachingTokenProvider (credential: TokenCredential, scope: string, opts: TokenProviderOptions = {}): CachingTokenProvider {
  const now = opts.now ?? Date.now
  let cached: { token: AccessToken, refreshAt: number } | undefined
  let inflight: Promise<AccessToken> | undefined
  let fetches = 0

  async function fetchToken (): Promise<AccessToken> {
    const obtainedAt = now()
    fetches++
    const token = await credential.getToken(scope)
    if (token == null) throw Object.assign(new Error(`no token for scope ${scope}`), { name: 'CredentialUnavailableError' })
    const refreshAt = refreshTime(obtainedAt, token.expiresOnTimestamp, opts.refreshRatio, opts.refreshMarginMs)
    cached = { token, refreshAt }
    opts.logger?.debug({ scope, expiresInS: Math.round((token.expiresOnTimestamp - obtainedAt) / 1000), refreshInS: Math.round((refreshAt - obtainedAt) / 1000) }, 'OAUTHBEARER token fetched')
    return token
  }

  const provider = async (): Promise<OauthbearerProviderResponse> => {
    if (cached != null && now() < cached.refreshAt) return { value: cached.token.token }
    inflight ??= fetchToken().finally(() => { inflight = undefined })
    try {
      return { value: (await inflight).token }
    } catch (err) {
      if (cached != null && now() < cached.token.expiresOnTimestamp - 30_000) {
        opts.logger?.warn({ scope, err: (err as Error).message }, 'OAUTHBEARER token refresh failed; using the cached token until it expires')
        return { value: cached.token.token }
      }
      throw err
    }
  }
  Object.defineProperty(provider, 'fetches', { get: () => fetches })
  Object.defineProperty(provider, 'refreshAt', { get: () => cached?.refreshAt ?? 0 })
  return provider as CachingTokenProvider
}
