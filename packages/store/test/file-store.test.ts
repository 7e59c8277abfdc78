import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openFileStore, sealSecret, openSecret, loadSecretKey } from '../src/index.js'
import { conformance } from './conformance.js'

const freshDir = (): string => mkdtempSync(join(tmpdir(), 'flowgate-store-'))

conformance(t, () => openFileStore(freshDir()))

t.test('what was written survives a restart, with the change log', async (t) => {
  const dir = freshDir()
  const store = await openFileStore(dir)
  await store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca', namespace: 'default' }, data: { 'ca.crt': 'PEM' } })
  const version = (await store.list()).resourceVersion
  await store.close()
  const again = await openFileStore(dir)
  t.teardown(() => again.close())
  t.equal((await again.list()).resourceVersion, version)
  t.same((await again.get({ kind: 'ConfigMap', namespace: 'default', name: 'ca' }))?.data, { 'ca.crt': 'PEM' })
})

t.test('a second store on the same directory is refused while the first is open', async (t) => {
  const dir = freshDir()
  const store = await openFileStore(dir)
  t.teardown(() => store.close())
  await t.rejects(openFileStore(dir), { code: 'FG_ERR_STORE_LOCKED' })
})

t.test('SIGKILL in the middle of writes leaves a readable store holding every acknowledged write', async (t) => {
  const dir = freshDir()
  // A child writes as fast as it can and reports each acknowledged write; it is killed without warning.
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { openFileStore } = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)})
    const store = await openFileStore(${JSON.stringify(dir)})
    for (let i = 0; ; i++) {
      await store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-' + (i % 50), namespace: 'default' }, data: { n: String(i), pad: 'x'.repeat(2000) } })
      process.stdout.write(i + '\\n')
    }`], { stdio: ['ignore', 'pipe', 'inherit'] })
  let acknowledged = -1
  child.stdout.on('data', (chunk: Buffer) => { const lines = chunk.toString().trim().split('\n'); acknowledged = Number(lines.at(-1)) })
  while (acknowledged < 200) await new Promise((resolve) => setTimeout(resolve, 20))
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  const last = acknowledged
  const store = await openFileStore(dir)
  t.teardown(() => store.close())
  const { items } = await store.list()
  t.equal(items.length, 50, 'every resource parses')
  const newest = Math.max(...items.map((r) => Number((r.data as { n: string }).n)))
  t.ok(newest >= last, `the last acknowledged write (${last}) is there (newest stored: ${newest})`)
})

t.test('secret values are sealed with AES-256-GCM: the store files never hold them', async (t) => {
  const dir = freshDir()
  const key = await loadSecretKey({ dataDir: dir, env: {} })
  t.equal(key.length, 32)
  t.equal((readdirSync(dir).includes('secret.key')), true, 'a key is generated into the data directory')
  const store = await openFileStore(dir)
  t.teardown(() => store.close())
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cs', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('Endpoint=sb://very-secret').toString('base64') } }
  await store.put(sealSecret(secret, key))
  await store.close()
  const files = readFileSync(join(dir, 'store', 'resources.json'), 'utf8')
  t.notMatch(files, /very-secret/)
  t.notMatch(files, Buffer.from('Endpoint=sb://very-secret').toString('base64'))
  const reopened = await openFileStore(dir)
  const stored = await reopened.get({ kind: 'Secret', namespace: 'default', name: 'cs' })
  await reopened.close()
  t.equal(Buffer.from(openSecret(stored!, key).data!.password!, 'base64').toString(), 'Endpoint=sb://very-secret')
  await t.rejects(loadSecretKey({ dataDir: dir, env: { FLOWGATE_SECRET_KEY: 'short' } }), { code: 'FG_ERR_SECRET_KEY_INVALID' })
})
