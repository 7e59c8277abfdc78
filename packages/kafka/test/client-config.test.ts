import t from 'tap'
import type { TokenCredential } from '@azure/identity'
import { kafkaConfig, endpointKafkaConfig, managedIdentityScope } from '../src/client-config.js'
import { cachingTokenProvider, refreshTime } from '../src/token-provider.js'
import { classifyKafkaError } from '../src/errors.js'
import { endpoint, silent } from './helpers.js'

const opts = { clientId: 'flowgate-test', logger: silent }
const never: TokenCredential = { getToken: async () => { throw new Error('not called') } }

t.test('hosts become kafkajs brokers; a host without a port is refused', async (t) => {
  t.same(kafkaConfig(endpoint({ host: 'a:9092, b:9093' }), {}, opts).brokers, ['a:9092', 'b:9093'])
  t.throws(() => kafkaConfig(endpoint({ host: 'a' }), {}, opts), { code: 'FG_ERR_KAFKA_CONFIG' })
})

t.test('TLS Enabled uses the trusted CA when given, else the system roots; Disabled has no TLS', async (t) => {
  t.equal(kafkaConfig(endpoint(), {}, opts).ssl, undefined)
  t.same(kafkaConfig(endpoint({ tls: { mode: 'Enabled' } }), {}, opts).ssl, { rejectUnauthorized: true })
  t.same(kafkaConfig(endpoint({ tls: { mode: 'Enabled', trustedCaCertificateConfigMapRef: 'ca' } }), { trustedCa: 'PEM' }, opts).ssl, { rejectUnauthorized: true, ca: 'PEM' })
})

t.test('X509Certificate sends the certificate chain and key; it needs TLS and the secret', async (t) => {
  const ep = endpoint({ tls: { mode: 'Enabled' }, authentication: { method: 'X509Certificate', x509CertificateSettings: { secretRef: 's' } } })
  t.match(kafkaConfig(ep, { tls: { cert: 'LEAF+INTERMEDIATE', key: 'KEY' } }, opts).ssl, { cert: 'LEAF+INTERMEDIATE', key: 'KEY' })
  t.throws(() => kafkaConfig(ep, {}, opts), { code: 'FG_ERR_KAFKA_CONFIG' })
  t.throws(() => kafkaConfig({ ...ep, tls: { mode: 'Disabled' } }, { tls: { cert: 'c', key: 'k' } }, opts), { code: 'FG_ERR_KAFKA_CONFIG' })
})

t.test('SASL types map to kafkajs mechanisms with the secret\'s username and password', async (t) => {
  const sasl = { username: 'u', password: 'p' }
  for (const [saslType, mechanism] of [['Plain', 'plain'], ['ScramSha256', 'scram-sha-256'], ['ScramSha512', 'scram-sha-512']] as const) {
    const c = kafkaConfig(endpoint({ authentication: { method: 'Sasl', saslSettings: { saslType, secretRef: 's' } } }), { sasl }, opts)
    t.same(c.sasl, { mechanism, username: 'u', password: 'p' }, saslType)
  }
  t.throws(() => kafkaConfig(endpoint({ authentication: { method: 'Sasl', saslSettings: { saslType: 'Plain', secretRef: 's' } } }), {}, opts), { code: 'FG_ERR_KAFKA_CONFIG' })
})

t.test('managed identity asks for the Event Hubs namespace audience unless overridden', async (t) => {
  // Only turned into an audience string here; nothing connects to or resolves it (`credential: never` below).
  const eh = 'ns.servicebus.windows.net:9093'
  t.equal(managedIdentityScope(endpoint({ host: eh, authentication: { method: 'SystemAssignedManagedIdentity', systemAssignedManagedIdentitySettings: {} } })), 'https://ns.servicebus.windows.net/.default')
  t.equal(managedIdentityScope(endpoint({ host: eh, authentication: { method: 'SystemAssignedManagedIdentity', systemAssignedManagedIdentitySettings: { audience: 'api://x' } } })), 'api://x/.default')
  t.equal(managedIdentityScope(endpoint({ host: eh, authentication: { method: 'UserAssignedManagedIdentity', userAssignedManagedIdentitySettings: { clientId: 'c' } } })), 'https://ns.servicebus.windows.net/.default')
  t.equal(managedIdentityScope(endpoint({ host: eh, authentication: { method: 'UserAssignedManagedIdentity', userAssignedManagedIdentitySettings: { clientId: 'c', scope: 'api://y/.default' } } })), 'api://y/.default')
  const c = endpointKafkaConfig(endpoint({ host: eh, authentication: { method: 'SystemAssignedManagedIdentity' } }), {}, { ...opts, credential: never })
  t.equal((c.config.sasl as { mechanism: string }).mechanism, 'oauthbearer')
  t.equal(c.scope, 'https://ns.servicebus.windows.net/.default')
})

t.test('the token is refreshed at 80 % of its life, or 5 minutes before expiry, never before half of it', async (t) => {
  t.equal(refreshTime(0, 3_600_000), 3_600_000 - 720_000, '1 h token: at 48 min')
  t.equal(refreshTime(0, 86_400_000), 86_400_000 - 17_280_000, '24 h token: at 80 %')
  t.equal(refreshTime(0, 600_000), 300_000, '10 min token: 5 min before expiry = half')
  t.equal(refreshTime(0, 60_000), 30_000, '60 s token: at half its life')
})

t.test('the OAUTHBEARER provider caches the token and fetches a fresh one before the old expires', async (t) => {
  let now = 1_000_000
  const issued: Array<{ at: number, scope: string }> = []
  const credential: TokenCredential = {
    getToken: async (scope) => {
      issued.push({ at: now, scope: String(scope) })
      return { token: `t${issued.length}`, expiresOnTimestamp: now + 60_000 }
    }
  }
  const provider = cachingTokenProvider(credential, 'api://a/.default', { now: () => now })
  t.same(await provider(), { value: 't1' })
  now += 29_000
  t.same(await provider(), { value: 't1' }, 'cached while young')
  t.equal(provider.fetches, 1)
  now += 2_000 // 31 s into a 60 s token: still valid, but due for refresh
  const [a, b] = await Promise.all([provider(), provider()])
  t.same([a, b], [{ value: 't2' }, { value: 't2' }], 'concurrent (re)authentications share one fetch')
  t.equal(provider.fetches, 2)
  t.equal(issued[1]!.at - issued[0]!.at, 31_000, 'fetched 29 s before the first token expired')
  t.equal(issued[0]!.scope, 'api://a/.default')
})

t.test('a failed refresh falls back to the still-valid cached token; an expired one fails', async (t) => {
  let now = 0
  let fail = false
  const credential: TokenCredential = { getToken: async () => { if (fail) throw Object.assign(new Error('down'), { name: 'CredentialUnavailableError' }); return { token: 'ok', expiresOnTimestamp: now + 600_000 } } }
  const provider = cachingTokenProvider(credential, 's', { now: () => now })
  await provider()
  fail = true
  now = 400_000
  t.same(await provider(), { value: 'ok' }, 'cached token still valid for 200 s')
  now = 590_000
  await t.rejects(provider(), { name: 'CredentialUnavailableError' })
  t.equal(classifyKafkaError(Object.assign(new Error('x'), { name: 'CredentialUnavailableError' })).code, 'FG_ERR_KAFKA_AUTH_FAILED')
})

t.test('kafkajs and Node errors map to stable codes', async (t) => {
  const proto = (type: string, retriable: boolean): Error => Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable })
  const wrapped = (e: Error): Error => Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false, cause: e })
  t.match(classifyKafkaError(proto('MESSAGE_TOO_LARGE', false)), { code: 'FG_ERR_KAFKA_TOO_LARGE', permanent: true })
  t.match(classifyKafkaError(wrapped(proto('UNKNOWN_TOPIC_OR_PARTITION', true))), { code: 'FG_ERR_KAFKA_TOPIC_MISSING', permanent: true })
  t.match(classifyKafkaError(proto('TOPIC_AUTHORIZATION_FAILED', false)), { code: 'FG_ERR_KAFKA_NOT_AUTHORIZED', permanent: true })
  t.match(classifyKafkaError(Object.assign(new Error('x'), { name: 'KafkaJSSASLAuthenticationError' })), { code: 'FG_ERR_KAFKA_AUTH_FAILED', permanent: true })
  t.match(classifyKafkaError(wrapped(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', code: 'ECONNREFUSED' }))), { code: 'FG_ERR_KAFKA_UNREACHABLE', permanent: false })
  t.match(classifyKafkaError(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })), { code: 'FG_ERR_KAFKA_AUTH_FAILED' })
  t.match(classifyKafkaError(proto('NOT_LEADER_FOR_PARTITION', true)), { code: 'FG_ERR_KAFKA_RETRIABLE', permanent: false })
  t.match(classifyKafkaError(proto('UNSUPPORTED_COMPRESSION_TYPE', false)), { code: 'FG_ERR_KAFKA_REJECTED', permanent: true })
  // The idempotent producer's state lost step with the broker: a fresh producer and a retry, never a drop.
  for (const type of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']) {
    t.match(classifyKafkaError(wrapped(proto(type, false))), { code: 'FG_ERR_KAFKA_RETRIABLE', permanent: false }, type)
  }
})
