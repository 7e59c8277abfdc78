import t from 'tap'
import { existsSync, mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../src/open-store.js'
import { endpoint } from './conformance.js'

t.test('openStore({store: "file"}) keeps the store in <dataDir>/store, and "file" is the default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-open-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  const store = await openStore({ store: 'file', dataDir: dir })
  await store.put(endpoint('a'))
  await store.close()
  t.ok(existsSync(join(dir, 'store', 'lock')) === false, 'the lock is released on close')
  const again = await openStore({ dataDir: dir })
  t.teardown(() => again.close())
  t.same((await again.list()).items.map((r) => r.metadata.name), ['a'])
})

t.test('any other --store is FG_ERR_STORE_UNSUPPORTED', async (t) => {
  await t.rejects(openStore({ store: 'mysql://localhost/x', dataDir: '/nonexistent' }), { code: 'FG_ERR_STORE_UNSUPPORTED', statusCode: 400 })
})
