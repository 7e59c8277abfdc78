import t from 'tap'
import { testAdmin } from './helpers.js'

const path = '/api/v1/namespaces/default/secrets/cs-secret'
const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cs-secret' }, stringData: { username: '$ConnectionString', password: 'Endpoint=sb://x/;SharedAccessKey=TOPSECRET' } }

t.test('secret values are never returned: reads list the keys with empty values', async (t) => {
  const admin = await testAdmin(t)
  const created = await admin.call('PUT', path, secret)
  t.equal(created.status, 201)
  for (const body of [created.body, (await admin.call('GET', path)).body, (await admin.call('GET', '/api/v1/secrets')).body.items[0]]) {
    t.same(body.data, { username: '', password: '' })
    t.equal(body.metadata.annotations['flowgate.dev/redacted'], 'true')
    t.notMatch(JSON.stringify(body), 'TOPSECRET')
    t.notOk('stringData' in body)
  }
})

t.test('secret values are sealed in the store, never plaintext or plain base64', async (t) => {
  const admin = await testAdmin(t)
  await admin.call('PUT', path, secret)
  const dump = await admin.dump()
  t.notMatch(dump, 'TOPSECRET')
  t.notMatch(dump, Buffer.from(secret.stringData.password).toString('base64'))
})

t.test('writing back a redacted read is refused instead of wiping the values', async (t) => {
  const admin = await testAdmin(t)
  const read = (await admin.call('PUT', path, secret)).body
  const res = await admin.call('PUT', path, read)
  t.equal(res.status, 400)
  t.equal(res.body.code, 'FG_ERR_REDACTED_SECRET')
})

t.test('a TLS secret needs tls.crt and tls.key', async (t) => {
  const admin = await testAdmin(t)
  const res = await admin.call('PUT', '/api/v1/namespaces/default/secrets/tls', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'PEM' } })
  t.equal(res.status, 400)
  t.same(res.body.errors.map((e: any) => e.path), ['/data/tls.key'])
})
