import t, { type Test } from 'tap'
import { rig, createTopic, readRecords, uniqueTopic } from '@flowgate/testkit'
import { createBatchingProducer } from '../src/batching-producer.js'
import { startGroupConsumer, type ConsumedRecord } from '../src/group-consumer.js'
import { endpointKafkaConfig } from '../src/client-config.js'
import { KafkaEndpointError } from '../src/errors.js'
import type { KafkaEndpoint, ResolvedSecrets } from '../src/types.js'
import { Kafka } from 'kafkajs'
import { endpoint, silent, testGroupOptions } from './helpers.js'
import { listenerEndpoint, kafkaFor, tokenServer, type TokenServer } from './rig-helpers.js'

// Every authentication method of the seed against the rig listener that speaks it: our producer writes, our
// consumer (same endpoint configuration) reads back, and a PLAINTEXT reader confirms what is stored.

const r = await rig()

async function roundTrip (t: Test, kafka: Kafka, ep: KafkaEndpoint): Promise<void> {
  const topic = uniqueTopic('auth')
  await createTopic(topic, 1)
  const producer = createBatchingProducer(kafka, ep, { logger: silent, instanceId: 0 })
  try {
    const results = await Promise.all([0, 1, 2].map((i) => producer.send({ topic, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), headers: [['h', Buffer.from(String(i))]] })))
    t.same(results.map((x) => x.offset), ['0', '1', '2'], 'acknowledged with offsets')
  } finally {
    await producer.close()
  }
  const got: ConsumedRecord[] = []
  const group = startGroupConsumer({
    kafka, groupId: uniqueTopic('g'), topics: [topic], instances: 1, options: testGroupOptions, logger: silent, retryDelay: () => 100, onError: () => {},
    onBatch: async (b) => { got.push(...b.records); await b.commit(b.records.length) }
  })
  try {
    const deadline = Date.now() + 30_000
    while (got.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  } finally {
    await group.close()
  }
  t.same(got.map((m) => m.value?.toString()), ['v0', 'v1', 'v2'], 'our consumer reads them back over the same listener')
  const stored = await readRecords(topic, 3)
  t.same(stored.map((x) => [x.key?.toString(), x.headers[0]?.[1].toString()]), [['k0', '0'], ['k1', '1'], ['k2', '2']], 'stored with keys and headers')
}


for (const which of ['plaintext', 'plain', 'scram-sha-256', 'scram-sha-512', 'mtls', 'eventhubs'] as const) {
  const label = { plaintext: 'Anonymous on PLAINTEXT', plain: 'Sasl Plain', 'scram-sha-256': 'Sasl ScramSha256', 'scram-sha-512': 'Sasl ScramSha512', mtls: 'X509Certificate (leaf + intermediate) on mTLS with the rig CA as trusted CA', eventhubs: 'Sasl Plain $ConnectionString over TLS (Event Hubs form)' }[which]
  t.test(`produce and consume with ${label}`, async (t) => {
    const e = listenerEndpoint(r, which)
    await roundTrip(t, kafkaFor(e), e.endpoint)
  })
}

async function expectCode (t: Test, ep: KafkaEndpoint, secrets: ResolvedSecrets, code: string): Promise<void> {
  const kafka = new Kafka({ ...endpointKafkaConfig(ep, secrets, { clientId: 'flowgate-kafka-test', logger: silent }).config, retry: { retries: 0 } })
  const producer = createBatchingProducer(kafka, ep, { logger: silent, instanceId: 0, retry: { retries: 0, initialRetryTime: 100, maxRetryTime: 100 } })
  const topic = uniqueTopic('authfail')
  await createTopic(topic, 1)
  try {
    const err = await producer.send({ topic, key: null, value: Buffer.from('x'), headers: [] }).then(() => null, (e: unknown) => e)
    t.ok(err instanceof KafkaEndpointError, 'a KafkaEndpointError')
    t.match(err, { code, permanent: true })
  } finally {
    await producer.close().catch(() => {})
  }
}

t.test('a wrong SASL password fails with FG_ERR_KAFKA_AUTH_FAILED', async (t) => {
  for (const which of ['plain', 'scram-sha-512'] as const) {
    const e = listenerEndpoint(r, which)
    await expectCode(t, e.endpoint, { sasl: { username: r.users[which].username, password: 'wrong' } }, 'FG_ERR_KAFKA_AUTH_FAILED')
  }
})

t.test('a broker certificate from an untrusted CA fails with FG_ERR_KAFKA_AUTH_FAILED', async (t) => {
  const e = listenerEndpoint(r, 'eventhubs')
  await expectCode(t, e.endpoint, { sasl: e.secrets.sasl! }, 'FG_ERR_KAFKA_AUTH_FAILED') // system roots only
})

// Managed identity: @azure/identity's ManagedIdentityCredential, pointed at our loopback token endpoint through its
// documented App Service variables, so nothing leaves 127.0.0.1. @azure/identity settles on its identity source and
// endpoint at first use in a process, so the file shares one token endpoint and each test reads its own requests.
const server = await tokenServer(r)
t.teardown(server.close)
process.env.IDENTITY_ENDPOINT = server.url
process.env.IDENTITY_HEADER = server.header
async function withIdentityEndpoint<T> (fn: (requests: TokenServer['requests']) => Promise<T>): Promise<T> {
  const since = server.requests.length
  return fn(new Proxy(server.requests, { get: (target, p) => Reflect.get(target.slice(since), p) }))
}

const audience = r.oauth.audience

t.test('SystemAssignedManagedIdentity with an audience override authenticates with OAUTHBEARER', async (t) => {
  await withIdentityEndpoint(async (requests) => {
    const ep = endpoint({ host: r.listeners.oauthbearer, authentication: { method: 'SystemAssignedManagedIdentity', systemAssignedManagedIdentitySettings: { audience } } })
    const c = endpointKafkaConfig(ep, {}, { clientId: 'flowgate-kafka-test', logger: silent })
    t.equal(c.scope, `${audience}/.default`)
    await roundTrip(t, new Kafka(c.config), ep)
    t.ok(requests.length >= 1, 'the token came from the identity endpoint')
    t.equal(requests[0]?.resource, audience, 'asked for the audience as resource')
    t.equal(requests[0]?.clientId, null, 'system-assigned: no client id')
  })
})

t.test('UserAssignedManagedIdentity asks for its client id and scope', async (t) => {
  await withIdentityEndpoint(async (requests) => {
    const ep = endpoint({ host: r.listeners.oauthbearer, authentication: { method: 'UserAssignedManagedIdentity', userAssignedManagedIdentitySettings: { clientId: '00000000-0000-0000-0000-00000000c11e', scope: `${audience}/.default` } } })
    await roundTrip(t, kafkaFor({ endpoint: ep, secrets: {} }), ep)
    t.equal(requests[0]?.clientId, '00000000-0000-0000-0000-00000000c11e')
    t.equal(requests[0]?.resource, audience)
  })
})

t.test('a managed-identity token for another audience is refused by the broker', async (t) => {
  await withIdentityEndpoint(async (requests) => {
    const ep = endpoint({ host: r.listeners.oauthbearer, authentication: { method: 'SystemAssignedManagedIdentity', systemAssignedManagedIdentitySettings: { audience: 'api://someone-else' } } })
    await expectCode(t, ep, {}, 'FG_ERR_KAFKA_AUTH_FAILED')
    t.equal(requests[0]?.resource, 'api://someone-else')
  })
})

t.test('short-lived tokens are replaced before they expire and new connections keep authenticating', async (t) => {
  server.lifetimeSeconds = 8
  t.teardown(() => { server.lifetimeSeconds = 3600 })
  await withIdentityEndpoint(async (requests) => {
    // A client id of its own: @azure/identity caches tokens per identity and scope in the process, and an earlier
    // test already holds a one-hour token for the system-assigned identity.
    const ep = endpoint({ host: r.listeners.oauthbearer, authentication: { method: 'UserAssignedManagedIdentity', userAssignedManagedIdentitySettings: { clientId: '00000000-0000-0000-0000-0000000e0008', scope: `${audience}/.default` } } })
    const c = endpointKafkaConfig(ep, {}, { clientId: 'flowgate-kafka-test', logger: silent })
    const kafka = new Kafka(c.config)
    const topic = uniqueTopic('refresh')
    await createTopic(topic, 1)
    const producer = createBatchingProducer(kafka, ep, { logger: silent, instanceId: 0 })
    t.teardown(() => producer.close())
    await producer.send({ topic, key: null, value: Buffer.from('first'), headers: [] })
    const firstFetches = c.tokenProvider!.fetches
    const refreshAt = c.tokenProvider!.refreshAt
    t.ok(refreshAt - Date.now() <= 4_000, 'an 8 s token is due for refresh at half its life')
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, refreshAt - Date.now()) + 200))
    // A new connection (an admin client) authenticates now: with a fresh token, not the one about to expire.
    const admin = kafka.admin()
    await admin.connect()
    await admin.listTopics()
    await admin.disconnect()
    t.ok(c.tokenProvider!.fetches > firstFetches, 'a fresh token was fetched')
    const last = requests.at(-1)!
    t.ok(last.at < refreshAt + 8_000, 'before the previous token expired')
    await producer.send({ topic, key: null, value: Buffer.from('second'), headers: [] })
    t.same((await readRecords(topic, 2)).map((x) => x.value?.toString()), ['first', 'second'], 'the long-lived producer connection still works')
  })
})
