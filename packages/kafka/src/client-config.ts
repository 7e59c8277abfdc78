import type { LookupFunction } from 'node:net'
import { socketFactoryWithLookup } from './socket-factory.js'
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity'
import type { KafkaConfig, SASLOptions } from 'kafkajs'
import type { Logger } from 'pino'
import type { ConnectionOptions } from 'node:tls'
import type { KafkaEndpoint, ResolvedSecrets } from './types.js'
import { configError } from './errors.js'
import { defaults } from './options.js'
import { kafkajsLevel, pinoLogCreator } from './log-creator.js'
import { cachingTokenProvider, type CachingTokenProvider } from './token-provider.js'

export interface KafkaConfigOptions {
  clientId: string
  logger: Logger
  /**
   * The token source for the managed-identity methods. Default: @azure/identity's `ManagedIdentityCredential`
   * (never `DefaultAzureCredential`: a gateway must not silently pick up a developer's CLI login).
   */
  credential?: TokenCredential
  /** Resolves broker names instead of DNS (see socket-factory.ts). */
  lookup?: LookupFunction
}

export interface EndpointKafkaConfig {
  config: KafkaConfig
  /** The OAUTHBEARER token provider (managed identity methods only): its counters are useful for metrics. */
  tokenProvider?: CachingTokenProvider
  /** The OAuth scope requested (managed identity methods only). */
  scope?: string
}

/** `host:port[,host:port…]` → kafkajs brokers; a missing port is refused rather than guessed. */
export function parseBrokers (host: string): string[] {
  const brokers = host.split(',').map((h) => h.trim()).filter(Boolean)
  if (brokers.length === 0) throw configError('host is empty')
  for (const b of brokers) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(b)) throw configError(`host "${b}" must be <host>:<port>`)
  }
  return brokers
}

/**
 * The managed-identity audience: the seed's default is the Event Hubs namespace, `https://<host without port>`
 * (the first bootstrap host), overridable with `audience`; user-assigned identities may give a full `scope`.
 */
export function managedIdentityScope (endpoint: KafkaEndpoint): string {
  const auth = endpoint.authentication
  const firstHost = (parseBrokers(endpoint.host)[0] ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  let audience = `https://${firstHost}`
  if (auth.method === 'SystemAssignedManagedIdentity' && auth.systemAssignedManagedIdentitySettings?.audience) {
    audience = auth.systemAssignedManagedIdentitySettings.audience
  }
  if (auth.method === 'UserAssignedManagedIdentity' && auth.userAssignedManagedIdentitySettings.scope) {
    return auth.userAssignedManagedIdentitySettings.scope
  }
  audience = audience.replace(/\/+$/, '')
  return audience.endsWith('/.default') ? audience : `${audience}/.default`
}

function managedIdentityCredential (endpoint: KafkaEndpoint): TokenCredential {
  const auth = endpoint.authentication
  if (auth.method === 'UserAssignedManagedIdentity') {
    const { clientId } = auth.userAssignedManagedIdentitySettings
    if (!clientId) throw configError('userAssignedManagedIdentitySettings.clientId is required')
    return new ManagedIdentityCredential({ clientId })
  }
  return new ManagedIdentityCredential()
}

function tlsOptions (endpoint: KafkaEndpoint, secrets: ResolvedSecrets): ConnectionOptions | undefined {
  if (endpoint.tls.mode !== 'Enabled') {
    if (endpoint.authentication.method === 'X509Certificate') throw configError('X509Certificate authentication needs tls.mode Enabled')
    return undefined
  }
  // Without a trusted-CA ConfigMap Node's bundled roots apply (Event Hubs); with one, only those CAs are trusted.
  // kafkajs sets SNI from the broker host itself and leaves it out for IP addresses (RFC 6066), so no servername here.
  const ssl: ConnectionOptions = { rejectUnauthorized: true }
  if (secrets.trustedCa != null) ssl.ca = secrets.trustedCa
  if (endpoint.authentication.method === 'X509Certificate') {
    if (secrets.tls == null) throw configError(`secret ${endpoint.authentication.x509CertificateSettings.secretRef} has no tls.crt / tls.key`)
    // `cert` holds the leaf then its intermediates: Node sends the whole chain, so the broker needs only the root.
    ssl.cert = secrets.tls.cert
    ssl.key = secrets.tls.key
  }
  return ssl
}

function saslOptions (endpoint: KafkaEndpoint, secrets: ResolvedSecrets, opts: KafkaConfigOptions): { sasl?: SASLOptions, tokenProvider?: CachingTokenProvider, scope?: string } {
  const auth = endpoint.authentication
  switch (auth.method) {
    case 'Anonymous':
    case 'X509Certificate':
      return {}
    case 'Sasl': {
      if (secrets.sasl == null) throw configError(`secret ${auth.saslSettings.secretRef} has no username / password`)
      const { username, password } = secrets.sasl
      switch (auth.saslSettings.saslType) {
        case 'Plain': return { sasl: { mechanism: 'plain', username, password } }
        case 'ScramSha256': return { sasl: { mechanism: 'scram-sha-256', username, password } }
        case 'ScramSha512': return { sasl: { mechanism: 'scram-sha-512', username, password } }
      }
      throw configError(`unknown saslType ${String((auth.saslSettings as { saslType: unknown }).saslType)}`)
    }
    case 'SystemAssignedManagedIdentity':
    case 'UserAssignedManagedIdentity': {
      const scope = managedIdentityScope(endpoint)
      const credential = opts.credential ?? managedIdentityCredential(endpoint)
      const tokenProvider = cachingTokenProvider(credential, scope, { logger: opts.logger })
      return { sasl: { mechanism: 'oauthbearer', oauthBearerProvider: tokenProvider }, tokenProvider, scope }
    }
  }
}

/** From an endpoint (after defaults) and its resolved secrets to a kafkajs configuration. */
export function kafkaConfig (endpoint: KafkaEndpoint, secrets: ResolvedSecrets, opts: KafkaConfigOptions): KafkaConfig {
  return endpointKafkaConfig(endpoint, secrets, opts).config
}

/** `kafkaConfig` plus the OAUTHBEARER token provider it built, when there is one. */
export function endpointKafkaConfig (endpoint: KafkaEndpoint, secrets: ResolvedSecrets, opts: KafkaConfigOptions): EndpointKafkaConfig {
  const ssl = tlsOptions(endpoint, secrets)
  const { sasl, tokenProvider, scope } = saslOptions(endpoint, secrets, opts)
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: parseBrokers(endpoint.host),
    connectionTimeout: defaults.connectionTimeoutMs,
    requestTimeout: defaults.requestTimeoutMs,
    // KIP-368: when the broker sets connections.max.reauth.ms (Event Hubs does), kafkajs re-authenticates a
    // connection before its next request once it is within this threshold of the session's end.
    reauthenticationThreshold: defaults.reauthenticationThresholdMs,
    retry: { ...defaults.retry },
    logLevel: kafkajsLevel(opts.logger),
    logCreator: pinoLogCreator(opts.logger)
  }
  if (opts.lookup) config.socketFactory = socketFactoryWithLookup(opts.lookup)
  if (ssl != null) config.ssl = ssl
  if (sasl != null) config.sasl = sasl
  const out: EndpointKafkaConfig = { config }
  if (tokenProvider != null) out.tokenProvider = tokenProvider
  if (scope != null) out.scope = scope
  return out
}
