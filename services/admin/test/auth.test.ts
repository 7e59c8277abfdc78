import t from 'tap'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { testAdmin } from './helpers.js'

t.test('the API refuses requests without the bearer token', async (t) => {
  const admin = await testAdmin(t)
  for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic dGVzdC10b2tlbg==' }] as Array<Record<string, string>>) {
    const res = await fetch(`${admin.url}/api/v1/dataflows`, { headers })
    t.equal(res.status, 401)
    t.equal((await res.json() as any).code, 'FG_ERR_UNAUTHORIZED')
  }
  const ok = await fetch(`${admin.url}/api/v1/dataflows`, { headers: { authorization: 'Bearer test-token' } })
  t.equal(ok.status, 200)
})

t.test('probes and the OpenAPI document need no token', async (t) => {
  const admin = await testAdmin(t)
  for (const path of ['/healthz', '/readyz', '/openapi.json']) t.equal((await fetch(admin.url + path)).status, 200, path)
})

t.test('without FLOWGATE_ADMIN_TOKEN a token is generated into the data directory, mode 0600, and kept', async (t) => {
  const admin = await testAdmin(t, {})
  const file = join(admin.dataDir, 'admin-token')
  t.equal((await readFile(file, 'utf8')).trim(), admin.token)
  t.equal((await stat(file)).mode & 0o777, 0o600)
  t.ok(admin.token.length >= 32)
  const { loadAdminToken } = await import('../src/token.js')
  t.same(await loadAdminToken(admin.dataDir, {}), { token: admin.token, source: 'file' }, 'a restart reads the same token')
  t.equal((await admin.call('GET', '/api/v1/secrets')).status, 200)
})

t.test('unknown kinds and routes answer 404 with a code', async (t) => {
  const admin = await testAdmin(t)
  const kind = await admin.call('GET', '/api/v1/pods')
  t.equal(kind.status, 404)
  t.equal(kind.body.code, 'FG_ERR_UNKNOWN_KIND')
  t.ok(kind.body.allowed.includes('dataflowendpoints'))
  const missing = await admin.call('GET', '/api/v1/namespaces/default/dataflows/nope')
  t.equal(missing.status, 404)
  t.equal(missing.body.code, 'FG_ERR_NOT_FOUND')
  t.equal((await admin.call('GET', '/api/v1/nothing/here/at/all/x/y')).body.code, 'FG_ERR_ROUTE_NOT_FOUND')
})
