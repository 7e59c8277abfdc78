import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { loadSecretKey, openSecret, sealSecret, secretKeys, secretValues } from '../src/secret-cipher.js'
import type { StoredResource } from '../src/types.js'

const dataDir = (t: Test): string => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-secret-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  return dir
}

const secret = (name = 'cs', namespace = 'default'): StoredResource & { stringData: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  type: 'Opaque',
  data: { username: Buffer.from('$ConnectionString').toString('base64') },
  stringData: { password: 'Endpoint=sb://x/;SharedAccessKey=TOPSECRET' }
})

t.test('FLOWGATE_SECRET_KEY gives the key as base64 or hex; anything else is FG_ERR_SECRET_KEY_INVALID naming the variable', async (t) => {
  const key = randomBytes(32)
  t.same(await loadSecretKey({ dataDir: '/nonexistent', env: { FLOWGATE_SECRET_KEY: key.toString('base64') } }), key)
  t.same(await loadSecretKey({ dataDir: '/nonexistent', env: { FLOWGATE_SECRET_KEY: key.toString('hex') } }), key)
  t.same(await loadSecretKey({ dataDir: '/nonexistent', env: { FLOWGATE_SECRET_KEY: key.toString('base64url') } }), key)
  for (const bad of ['short', randomBytes(16).toString('base64'), randomBytes(33).toString('hex'), 'not base64 at all!!']) {
    const err = await loadSecretKey({ dataDir: '/nonexistent', env: { FLOWGATE_SECRET_KEY: bad } }).catch((e: Error) => e)
    t.match(err, { code: 'FG_ERR_SECRET_KEY_INVALID' }, JSON.stringify(bad))
    t.match((err as Error).message, 'FLOWGATE_SECRET_KEY')
    t.notMatch((err as Error).message, bad, 'the bad value itself is not echoed')
  }
})

t.test('without FLOWGATE_SECRET_KEY a key is generated into <dataDir>/secret.key (0600) once, then reused', async (t) => {
  const dir = dataDir(t)
  const first = await loadSecretKey({ dataDir: dir, env: {} })
  t.equal(first.length, 32)
  t.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600)
  t.same(await loadSecretKey({ dataDir: dir, env: {} }), first)
  const together = await Promise.all([1, 2, 3].map(async () => await loadSecretKey({ dataDir: join(dir, 'fresh'), env: {} })))
  t.same(together[1], together[0], 'processes starting together agree on one key')
  t.same(together[2], together[0])
  writeFileSync(join(dir, 'secret.key'), 'garbage\n')
  await t.rejects(loadSecretKey({ dataDir: dir, env: {} }), { code: 'FG_ERR_SECRET_KEY_INVALID' })
})

t.test('sealing folds stringData into data, seals every value, and opens back to the same bytes', async (t) => {
  const key = randomBytes(32)
  const sealed = sealSecret(secret(), key)
  t.notOk('stringData' in sealed)
  t.same(Object.keys(sealed.data!), ['username', 'password'], 'keys keep their order')
  for (const v of Object.values(sealed.data!)) t.match(v, /^sealed:A256GCM:[0-9a-f]{16}:/)
  t.notMatch(JSON.stringify(sealed), 'TOPSECRET')
  t.notMatch(JSON.stringify(sealed), Buffer.from('$ConnectionString').toString('base64'))
  t.same(secretKeys(sealed), ['username', 'password'])
  t.same(secretKeys(secret()), ['username', 'password'], 'keys of an unsealed Secret too')
  const opened = openSecret(sealed, key)
  t.same(opened.data, { username: Buffer.from('$ConnectionString').toString('base64'), password: Buffer.from('Endpoint=sb://x/;SharedAccessKey=TOPSECRET').toString('base64') })
  t.equal(secretValues(sealed, key).password!.toString(), 'Endpoint=sb://x/;SharedAccessKey=TOPSECRET')
  t.same(sealSecret(sealed, key).data, sealed.data, 'sealing a sealed Secret keeps its values')
  t.not(sealSecret(secret(), key).data!.password, sealed.data!.password, 'a fresh IV each time')
})

t.test('a wrong key is FG_ERR_SECRET_KEY_MISMATCH; altered or moved values are FG_ERR_SECRET_UNREADABLE', async (t) => {
  const key = randomBytes(32)
  const sealed = sealSecret(secret(), key)
  t.throws(() => openSecret(sealed, randomBytes(32)), { code: 'FG_ERR_SECRET_KEY_MISMATCH' })
  const altered = structuredClone(sealed)
  const v = altered.data!.password!
  altered.data!.password = v.slice(0, -6) + (v.at(-6) === 'A' ? 'B' : 'A') + v.slice(-5)
  t.throws(() => openSecret(altered, key), { code: 'FG_ERR_SECRET_UNREADABLE' })
  const moved = { ...sealSecret(secret('other'), key), data: sealed.data }
  t.throws(() => openSecret(moved, key), { code: 'FG_ERR_SECRET_UNREADABLE' }, 'bound to its secret\'s namespace/name')
  const swapped = { ...sealed, data: { username: sealed.data!.password!, password: sealed.data!.username! } }
  t.throws(() => openSecret(swapped, key), { code: 'FG_ERR_SECRET_UNREADABLE' }, 'bound to its key name')
  t.notMatch(readFileSync(new URL('../src/secret-cipher.ts', import.meta.url), 'utf8'), /console\.|logger/, 'the cipher logs nothing')
})
