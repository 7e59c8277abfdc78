import t, { type Test } from 'tap'
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs'
import { rig, kafkaConfig, createTopic, readRecords, uniqueTopic, kcatConsume, signRigToken, type Listener } from '@flowgate/testkit'

// The first proof on real parts: kafkajs talks to a real Kafka 4 broker on every security mode the seed page names,
// and Debian's kcat (librdkafka, a client we did not write) reads back what kafkajs wrote, headers included.

const r = await rig()

function oauthConfig (audience = r.oauth.audience): KafkaConfig {
  return {
    clientId: 'flowgate-test',
    brokers: [r.listeners.oauthbearer],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: signRigToken(r, { audience }).token }) }
  }
}

const listeners: Array<{ name: Listener, label: string, config: () => KafkaConfig }> = [
  { name: 'plaintext', label: 'PLAINTEXT', config: () => kafkaConfig(r, 'plaintext') },
  { name: 'saslPlaintext', label: 'SASL_PLAINTEXT PLAIN', config: () => kafkaConfig(r, 'saslPlaintext') },
  { name: 'saslPlaintext', label: 'SASL_PLAINTEXT SCRAM-SHA-256', config: () => ({ ...kafkaConfig(r, 'saslPlaintext'), sasl: { mechanism: 'scram-sha-256', ...r.users['scram-sha-256'] } }) },
  { name: 'saslPlaintext', label: 'SASL_PLAINTEXT SCRAM-SHA-512', config: () => ({ ...kafkaConfig(r, 'saslPlaintext'), sasl: { mechanism: 'scram-sha-512', ...r.users['scram-sha-512'] } }) },
  { name: 'ssl', label: 'SSL with client certificate (mTLS, leaf + intermediate)', config: () => kafkaConfig(r, 'ssl') },
  { name: 'saslSsl', label: 'SASL_SSL PLAIN as Event Hubs ($ConnectionString)', config: () => kafkaConfig(r, 'saslSsl') },
  { name: 'oauthbearer', label: 'OAUTHBEARER with a JWT checked against the JWKS', config: () => oauthConfig() }
]

for (const l of listeners) {
  t.test(`kafkajs produces and consumes with headers over ${l.label}; kcat reads the same records`, async (t) => {
    const topic = uniqueTopic('listener')
    await createTopic(topic, 1)
    const producer = new Kafka(l.config()).producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'device-1', value: 'first', headers: { 'Content Type': 'text/plain', site: ['a', 'b'] } },
        { key: null, value: Buffer.from([0, 1, 2, 255]), headers: { 'Correlation Data': Buffer.from([0xde, 0xad]) } }
      ]
    })
    await producer.disconnect()

    // kcat cannot mint our JWTs, so records written over OAUTHBEARER are read back over PLAINTEXT.
    const viaListener = l.name === 'oauthbearer' ? 'plaintext' : l.name
    const records = await readRecords(topic, 2, { listener: viaListener })
    t.equal(records[0]?.value?.toString(), 'first')
    t.equal(records[0]?.key?.toString(), 'device-1')
    t.same(records[0]?.headers.map(([k, v]) => [k, v.toString()]), [['Content Type', 'text/plain'], ['site', 'a'], ['site', 'b']], 'repeated header names kept in order')
    t.same(records[1]?.value, Buffer.from([0, 1, 2, 255]), 'binary payload intact')

    const fromKcat = await kcatConsume(r, viaListener, topic, 2)
    t.equal(fromKcat.length, 2, 'kcat reads both records')
    t.equal(fromKcat[0]?.payload, 'first')
    t.equal(fromKcat[0]?.key, 'device-1')
    t.same(fromKcat[0]?.headers, ['Content Type', 'text/plain', 'site', 'a', 'site', 'b'], 'kcat sees the same headers')
  })
}

async function connectFails (t: Test, config: KafkaConfig, match: RegExp): Promise<void> {
  const admin = new Kafka({ ...config, retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin()
  try {
    // kafkajs 2.2.4 reports a refused OAUTHBEARER token only on the first request, not at connect: do both.
    await t.rejects(admin.connect().then(() => admin.listTopics()), match)
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

t.test('a wrong SASL PLAIN password is refused with the broker\'s authentication error', async (t) => {
  await connectFails(t, { ...kafkaConfig(r, 'saslPlaintext'), sasl: { mechanism: 'plain', username: r.users.plain.username, password: 'wrong' } }, /SASL PLAIN authentication failed|Authentication failed|invalid credentials/i)
})

t.test('a wrong SCRAM-SHA-512 password is refused', async (t) => {
  await connectFails(t, { ...kafkaConfig(r, 'saslPlaintext'), sasl: { mechanism: 'scram-sha-512', username: r.users['scram-sha-512'].username, password: 'wrong' } }, /SCRAM|Authentication failed/i)
})

t.test('the mTLS listener refuses a client without a certificate', async (t) => {
  const config = kafkaConfig(r, 'ssl')
  const ssl = config.ssl as { ca: string }
  await connectFails(t, { ...config, ssl: { ca: ssl.ca } }, /./)
})

t.test('the OAUTHBEARER listener refuses a token for another audience', async (t) => {
  // The broker logs "Audience (aud) claim [api://someone-else] doesn't contain an acceptable identifier" and closes.
  await connectFails(t, oauthConfig('api://someone-else'), /authentication failed|No brokers in the broker pool/i)
})
