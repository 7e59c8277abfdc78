import t, { type Test } from 'tap'
import pg from 'pg'
import { createPostgresStore } from '../src/postgres-store.js'
import { openStore } from '../src/open-store.js'
import { sealSecret, loadSecretKey, openSecret } from '../src/secret-cipher.js'
import type { Store } from '../src/types.js'
import { conformance, endpoint, take } from './conformance.js'
import { startTestPostgres } from '@flowgate/testkit'

// The shared conformance suite over PostgreSQL (a throwaway server unless FLOWGATE_TEST_PG_URL), a database per test.
const server = await startTestPostgres()
t.teardown(() => server.stop())

conformance(t, async (options) => await createPostgresStore(await server.createDatabase(), options))

async function opened (t: Test, url: string): Promise<Store> {
  const store = await createPostgresStore(url)
  t.teardown(() => store.close())
  return store
}

t.test('two replicas on one database see each other\'s writes through watch', async (t) => {
  const url = await server.createDatabase()
  const a = await opened(t, url)
  const b = await opened(t, url)
  const start = (await a.list()).resourceVersion
  const seenByA = take(a.watch({ fromResourceVersion: start }), 4)
  const seenByB = take(b.watch({ fromResourceVersion: start }), 4)
  await b.put(endpoint('from-b'))
  await a.put(endpoint('from-a'))
  await b.putAll([{ resource: endpoint('batch-1') }, { resource: endpoint('batch-2') }])
  const names = (events: Awaited<typeof seenByA>): string[] => events.map((e) => `${e.type} ${e.object.metadata.name}`)
  const expected = ['ADDED from-b', 'ADDED from-a', 'ADDED batch-1', 'ADDED batch-2']
  t.same(names(await seenByA), expected, 'replica A sees B\'s writes, in order')
  t.same(names(await seenByB), expected, 'replica B sees A\'s writes, in order')
  t.same((await a.get({ kind: 'DataflowEndpoint', namespace: 'default', name: 'from-b' }))?.spec, endpoint('from-b').spec)
})

t.test('concurrent writers on two replicas: versions are unique and every watcher sees every write once, in version order', async (t) => {
  const url = await server.createDatabase()
  const a = await opened(t, url)
  const b = await opened(t, url)
  const start = (await a.list()).resourceVersion
  const n = 40
  const seen = take(a.watch({ fromResourceVersion: start }), 2 * n)
  const writes = await Promise.all([
    ...Array.from({ length: n }, async (_, i) => await a.put(endpoint(`a${i}`))),
    ...Array.from({ length: n }, async (_, i) => await b.put(endpoint(`b${i}`)))
  ])
  const versions = writes.map((w) => BigInt(w.resource.metadata.resourceVersion!))
  t.equal(new Set(versions).size, 2 * n, 'no version given twice')
  const events = await seen
  const order = events.map((e) => BigInt(e.object.metadata.resourceVersion!))
  t.same(order, [...order].sort((x, y) => (x < y ? -1 : 1)), 'delivered in version order')
  t.equal(new Set(events.map((e) => e.object.metadata.name)).size, 2 * n, 'each write once')
})

t.test('a watcher that connects after the writes replays them from the changes table (coalesced notifications lose nothing)', async (t) => {
  const url = await server.createDatabase()
  const writer = await opened(t, url)
  const start = (await writer.list()).resourceVersion
  for (let i = 0; i < 25; i++) await writer.put(endpoint(`e${i % 5}`, `h${i}:1`))
  const reader = await opened(t, url)
  const events = await take(reader.watch({ fromResourceVersion: start }), 25)
  t.equal(events.length, 25)
  t.same((events.at(-1)!.object.spec as any).kafkaSettings.host, 'h24:1')
})

t.test('openStore takes a postgres:// URL', async (t) => {
  const store = await openStore({ store: await server.createDatabase(), dataDir: '/nonexistent' })
  t.teardown(() => store.close())
  t.equal((await store.put(endpoint('via-open-store'))).created, true)
})

t.test('an unreachable server is FG_ERR_STORE_UNAVAILABLE (503)', async (t) => {
  await t.rejects(createPostgresStore('postgres://postgres@127.0.0.1:1/none'), { code: 'FG_ERR_STORE_UNAVAILABLE', statusCode: 503 })
})

t.test('secret values sealed before the store never reach the table in plaintext', async (t) => {
  const url = await server.createDatabase()
  const store = await opened(t, url)
  const key = await loadSecretKey({ dataDir: '/nonexistent', env: { FLOWGATE_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') } })
  const plaintext = 'Endpoint=sb://pg-very-secret'
  await store.put(sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cs', namespace: 'default' }, type: 'Opaque', stringData: { password: plaintext } } as never, key))
  await store.setStatus({ kind: 'Secret', namespace: 'default', name: 'cs' }, { seen: true })
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  t.teardown(() => client.end())
  const { rows } = await client.query(`SELECT string_agg(t::text, ' ') AS dump FROM (SELECT r::text AS t FROM flowgate.resources r UNION ALL SELECT c::text FROM flowgate.changes c) x`)
  const dump = rows[0].dump as string
  t.match(dump, 'sealed:A256GCM:', 'the table holds the sealed form')
  t.notMatch(dump, plaintext)
  t.notMatch(dump, Buffer.from(plaintext).toString('base64'))
  const stored = await store.get({ kind: 'Secret', namespace: 'default', name: 'cs' })
  t.equal(Buffer.from(openSecret(stored!, key).data!.password!, 'base64').toString(), plaintext)
})

t.test('a watcher outlives dropped connections (its LISTEN, then every one): it reconnects and catches up on what it missed', async (t) => {
  const url = await server.createDatabase()
  const watcher = await opened(t, url)
  const writer = await opened(t, url)
  const start = (await watcher.list()).resourceVersion
  const events: string[] = []
  const abort = new AbortController()
  const done = (async () => { for await (const e of watcher.watch({ fromResourceVersion: start, signal: abort.signal })) events.push(e.object.metadata.name) })()
  await writer.put(endpoint('before-drop'))
  await until(() => events.length === 1)
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  t.teardown(() => admin.end())
  const { rowCount } = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`)
  t.equal(rowCount, 1, 'the listener was dropped')
  await writer.put(endpoint('while-down'))
  await writer.put(endpoint('after'))
  await until(() => events.length === 3)
  // Now every connection to the database but this one: the pools' and the listener.
  await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
  await new Promise((resolve) => setTimeout(resolve, 100))
  await writer.put(endpoint('after-all-dropped'))
  await until(() => events.length === 4)
  t.same(events, ['before-drop', 'while-down', 'after', 'after-all-dropped'])
  abort.abort()
  await done
})

async function until (check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
