import type { Test } from 'tap'
import type { Store, StoredResource, WatchEvent } from '../src/types.js'

/** Opens a fresh, empty store; `changeLogLimit` shrinks the watch log so that expiry can be tested. */
export type StoreFactory = (options?: { changeLogLimit?: number }) => Promise<Store>

export const endpoint = (name: string, host = 'kafka:9092', namespace = 'default'): StoredResource => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name, namespace },
  spec: { endpointType: 'Kafka', kafkaSettings: { host } }
})

const configMap = (name: string, data: Record<string, string>): StoredResource =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data })

const key = (name: string, kind = 'DataflowEndpoint'): { kind: string, namespace: string, name: string } => ({ kind, namespace: 'default', name })

/** The first `n` events of a watch, then stops it. */
export async function take (iterable: AsyncIterable<WatchEvent>, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = []
  if (n === 0) return out
  for await (const e of iterable) { out.push(e); if (out.length >= n) break }
  return out
}

const describe = (e: WatchEvent): string => `${e.type} ${e.object.kind}/${e.object.metadata.name}`

/** The behaviour every store backend promises (packages/store/src/types.ts), run against each of them. */
export function conformance (t: Test, open: StoreFactory): void {
  const fresh = async (t: Test, options?: { changeLogLimit?: number }): Promise<Store> => {
    const store = await open(options)
    t.teardown(() => store.close())
    return store
  }

  t.test('put creates, then replaces with a new resourceVersion; generation moves only when the spec does', async (t) => {
    const store = await fresh(t)
    const created = await store.put(endpoint('kafka'))
    t.equal(created.created, true)
    t.equal(created.resource.metadata.generation, 1)
    t.match(created.resource.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT/)
    t.ok(created.resource.metadata.uid)
    const same = await store.put({ ...endpoint('kafka'), metadata: { name: 'kafka', namespace: 'default', labels: { team: 'a' } } })
    t.equal(same.created, false)
    t.equal(same.resource.metadata.generation, 1, 'same spec (labels aside), same generation')
    t.ok(BigInt(same.resource.metadata.resourceVersion!) > BigInt(created.resource.metadata.resourceVersion!), 'resourceVersion grows')
    const changed = await store.put(endpoint('kafka', 'other:9092'))
    t.equal(changed.resource.metadata.generation, 2)
    t.equal(changed.resource.metadata.creationTimestamp, created.resource.metadata.creationTimestamp, 'creationTimestamp kept')
    t.equal(changed.resource.metadata.uid, created.resource.metadata.uid, 'uid kept')
    const read = await store.get(key('kafka'))
    t.same(read?.spec, { endpointType: 'Kafka', kafkaSettings: { host: 'other:9092' } })
    t.equal(read?.metadata.resourceVersion, changed.resource.metadata.resourceVersion)
  })

  t.test('generation follows data and type of Secrets and ConfigMaps', async (t) => {
    const store = await fresh(t)
    await store.put(configMap('ca', { 'ca.crt': 'A' }))
    t.equal((await store.put(configMap('ca', { 'ca.crt': 'A' }))).resource.metadata.generation, 1)
    t.equal((await store.put(configMap('ca', { 'ca.crt': 'B' }))).resource.metadata.generation, 2)
    t.equal((await store.put({ ...configMap('ca', { 'ca.crt': 'B' }), type: 'x' })).resource.metadata.generation, 3)
  })

  t.test('a missing resource reads as undefined, and what a read returns is a copy', async (t) => {
    const store = await fresh(t)
    t.equal(await store.get(key('nope')), undefined)
    await store.put(endpoint('c'))
    const read = await store.get(key('c'))
    ;(read!.spec as any).endpointType = 'Mqtt'
    t.equal(((await store.get(key('c')))!.spec as any).endpointType, 'Kafka')
  })

  t.test('resourceVersion is store-wide: every write is above every earlier one, across kinds', async (t) => {
    const store = await fresh(t)
    const versions: bigint[] = []
    versions.push(BigInt((await store.put(endpoint('a'))).resource.metadata.resourceVersion!))
    versions.push(BigInt((await store.put(configMap('b', {}))).resource.metadata.resourceVersion!))
    versions.push(BigInt((await store.put(endpoint('a', 'x:1'))).resource.metadata.resourceVersion!))
    t.ok(versions[0]! < versions[1]! && versions[1]! < versions[2]!, versions.join(' < '))
    t.equal((await store.list()).resourceVersion, String(versions[2]), 'list carries the newest')
  })

  t.test('a write with a stale resourceVersion is refused with FG_ERR_STORE_CONFLICT (409)', async (t) => {
    const store = await fresh(t)
    const first = await store.put(endpoint('a'))
    const second = await store.put(endpoint('a', 'x:1'), { expectedResourceVersion: first.resource.metadata.resourceVersion! })
    t.equal(second.resource.metadata.generation, 2, 'the current resourceVersion is accepted')
    await t.rejects(store.put(endpoint('a', 'y:1'), { expectedResourceVersion: first.resource.metadata.resourceVersion! }), { code: 'FG_ERR_STORE_CONFLICT', statusCode: 409 })
    await t.rejects(store.delete(key('a'), { expectedResourceVersion: first.resource.metadata.resourceVersion! }), { code: 'FG_ERR_STORE_CONFLICT', statusCode: 409 })
    await t.rejects(store.put(endpoint('missing'), { expectedResourceVersion: '1' }), { code: 'FG_ERR_STORE_CONFLICT' }, 'a precondition on a missing object fails')
    t.equal(await store.get(key('missing')), undefined)
    t.same((await store.get(key('a')))?.spec, endpoint('a', 'x:1').spec, 'the refused writes changed nothing')
  })

  t.test('of two writers holding the same resourceVersion, exactly one wins', async (t) => {
    const store = await fresh(t)
    const base = await store.put(endpoint('race'))
    const rv = base.resource.metadata.resourceVersion!
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.put(endpoint('race', `h${i}:1`), { expectedResourceVersion: rv })))
    t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1)
    for (const o of outcomes) if (o.status === 'rejected') t.equal((o.reason as { code: string }).code, 'FG_ERR_STORE_CONFLICT')
  })

  t.test('putAll writes all or nothing', async (t) => {
    const store = await fresh(t)
    const a = await store.put(endpoint('a'))
    await store.put(endpoint('a', 'moved:1'))
    const before = (await store.list()).resourceVersion
    await t.rejects(store.putAll([{ resource: endpoint('b') }, { resource: endpoint('c') }, { resource: endpoint('a'), options: { expectedResourceVersion: a.resource.metadata.resourceVersion! } }]), { code: 'FG_ERR_STORE_CONFLICT' })
    t.equal(await store.get(key('b')), undefined, 'b was not written')
    t.equal(await store.get(key('c')), undefined, 'c was not written')
    t.equal((await store.list()).resourceVersion, before, 'nothing moved')
    await t.rejects(store.putAll([{ resource: endpoint('b') }, { resource: { kind: 'DataflowEndpoint', metadata: {} } as never }]), { code: 'FG_ERR_STORE_INVALID' })
    t.equal(await store.get(key('b')), undefined, 'an invalid member stops the batch too')
    const both = await store.putAll([{ resource: endpoint('b') }, { resource: endpoint('c') }])
    t.same(both.map((r) => r.created), [true, true])
    t.ok(BigInt(both[0]!.resource.metadata.resourceVersion!) < BigInt(both[1]!.resource.metadata.resourceVersion!))
    t.same(await store.putAll([]), [])
  })

  t.test('list filters by kind and namespace and sorts by namespace then name', async (t) => {
    const store = await fresh(t)
    await store.putAll([{ resource: endpoint('z') }, { resource: endpoint('m') }, { resource: endpoint('q', 'k:1', 'aio') }, { resource: configMap('cm', {}) }])
    t.same((await store.list({ kind: 'DataflowEndpoint' })).items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`), ['aio/q', 'default/m', 'default/z'])
    t.same((await store.list({ namespace: 'aio' })).items.map((r) => r.metadata.name), ['q'])
    t.same((await store.list({ kind: 'ConfigMap', namespace: 'default' })).items.map((r) => r.metadata.name), ['cm'])
    t.equal((await store.list()).items.length, 4)
  })

  t.test('a namespace left out is "default"; a resource without kind or name is refused (FG_ERR_STORE_INVALID)', async (t) => {
    const store = await fresh(t)
    const put = await store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n' } as never, data: {} })
    t.equal(put.resource.metadata.namespace, 'default')
    await t.rejects(store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'default' } as never }), { code: 'FG_ERR_STORE_INVALID', statusCode: 400 })
    await t.rejects(store.put({ apiVersion: 'v1', metadata: { name: 'x', namespace: 'default' } } as never), { code: 'FG_ERR_STORE_INVALID' })
  })

  t.test('delete removes and returns the object; deleting what is not there returns undefined', async (t) => {
    const store = await fresh(t)
    const put = await store.put(endpoint('d'))
    const gone = await store.delete(key('d'), { expectedResourceVersion: put.resource.metadata.resourceVersion! })
    t.equal(gone?.metadata.name, 'd')
    t.ok(BigInt(gone!.metadata.resourceVersion!) > BigInt(put.resource.metadata.resourceVersion!), 'the deletion has its own resourceVersion')
    t.equal(await store.get(key('d')), undefined)
    t.equal((await store.list()).resourceVersion, gone?.metadata.resourceVersion)
    t.equal(await store.delete(key('d')), undefined)
    const again = await store.put(endpoint('d'))
    t.equal(again.created, true)
    t.equal(again.resource.metadata.generation, 1, 'a re-created object starts over')
  })

  t.test('watch replays what came after a resourceVersion, then follows live changes, deletes included', async (t) => {
    const store = await fresh(t)
    const start = (await store.list()).resourceVersion
    const first = await store.put(endpoint('w1'))
    const abort = new AbortController()
    const events = take(store.watch({ fromResourceVersion: start, signal: abort.signal }), 3)
    const modified = await store.put(endpoint('w1', 'changed:1'))
    const deleted = await store.delete(key('w1'))
    const seen = await events
    t.same(seen.map(describe), ['ADDED DataflowEndpoint/w1', 'MODIFIED DataflowEndpoint/w1', 'DELETED DataflowEndpoint/w1'])
    t.same(seen.map((e) => e.object.metadata.resourceVersion), [first, modified].map((p) => p.resource.metadata.resourceVersion).concat(deleted!.metadata.resourceVersion))
    t.same(seen[1]!.object.spec, endpoint('w1', 'changed:1').spec)
    abort.abort()
  })

  t.test('watch from a version replays only what came after it; from the newest version, only what comes next', async (t) => {
    const store = await fresh(t)
    await store.put(endpoint('a'))
    const mid = (await store.put(endpoint('b'))).resource.metadata.resourceVersion!
    await store.put(endpoint('c'))
    t.same((await take(store.watch({ fromResourceVersion: mid }), 1)).map(describe), ['ADDED DataflowEndpoint/c'])
    const now = (await store.list()).resourceVersion
    const next = take(store.watch({ fromResourceVersion: now }), 1)
    await store.put(endpoint('d'))
    t.same((await next).map(describe), ['ADDED DataflowEndpoint/d'])
  })

  t.test('watch without a version gives changes made after it was called, not before', async (t) => {
    const store = await fresh(t)
    await store.put(endpoint('before'))
    const live = take(store.watch(), 1)
    await store.put(endpoint('after'))
    t.same((await live).map(describe), ['ADDED DataflowEndpoint/after'])
  })

  t.test('watch can follow one kind', async (t) => {
    const store = await fresh(t)
    const start = (await store.list()).resourceVersion
    await store.putAll([{ resource: endpoint('e') }, { resource: configMap('cm', { a: '1' }) }, { resource: endpoint('f') }])
    t.same((await take(store.watch({ fromResourceVersion: start, kind: 'ConfigMap' }), 1)).map(describe), ['ADDED ConfigMap/cm'])
    t.same((await take(store.watch({ fromResourceVersion: start, kind: 'DataflowEndpoint' }), 2)).map(describe), ['ADDED DataflowEndpoint/e', 'ADDED DataflowEndpoint/f'])
  })

  t.test('a watch from a version older than the kept change log fails with FG_ERR_STORE_WATCH_EXPIRED (410)', async (t) => {
    const store = await fresh(t, { changeLogLimit: 5 })
    const start = (await store.list()).resourceVersion
    // Past the limit by more than any slack a backend keeps for amortised trimming.
    for (let i = 0; i < 40; i++) await store.put(endpoint(`x${i % 3}`, `h${i}:1`))
    const it = store.watch({ fromResourceVersion: start })[Symbol.asyncIterator]()
    await t.rejects(it.next(), { code: 'FG_ERR_STORE_WATCH_EXPIRED', statusCode: 410 })
    const { resourceVersion } = await store.list()
    const fromList = take(store.watch({ fromResourceVersion: resourceVersion }), 1)
    await store.put(endpoint('after-relist'))
    t.same((await fromList).map(describe), ['ADDED DataflowEndpoint/after-relist'], 'a relist and a watch from its version works')
    const recent = String(BigInt(resourceVersion) - 2n)
    t.equal((await take(store.watch({ fromResourceVersion: recent }), 2)).length, 2, 'the newest changes are kept')
  })

  t.test('a resourceVersion that is not one is refused (FG_ERR_STORE_INVALID)', async (t) => {
    const store = await fresh(t)
    const it = store.watch({ fromResourceVersion: 'yesterday' })[Symbol.asyncIterator]()
    await t.rejects(it.next(), { code: 'FG_ERR_STORE_INVALID' })
  })

  t.test('a watch ends when its signal aborts and when the store closes', async (t) => {
    const store = await open()
    const abort = new AbortController()
    const aborted = take(store.watch({ signal: abort.signal }), 5)
    const closed = take(store.watch(), 5)
    await new Promise((resolve) => setTimeout(resolve, 20))
    abort.abort()
    t.same(await aborted, [], 'abort ends it')
    await store.close()
    t.same(await closed, [], 'close ends it')
  })

  t.test('setStatus keeps observed state apart: no new resourceVersion, no watch event, not replaced by a user write', async (t) => {
    const store = await fresh(t)
    const put = await store.put(endpoint('s'))
    const start = put.resource.metadata.resourceVersion!
    await store.setStatus(key('s'), { conditions: [{ type: 'Ready', status: 'True' }] })
    const read = await store.get(key('s'))
    t.equal(read?.metadata.resourceVersion, start)
    t.equal((await store.list()).resourceVersion, start)
    t.same(read?.status, { conditions: [{ type: 'Ready', status: 'True' }] })
    const replaced = await store.put({ ...endpoint('s', 'new:1'), status: { forged: true } })
    t.same(replaced.resource.status, { conditions: [{ type: 'Ready', status: 'True' }] })
    t.same((await store.get(key('s')))?.status, { conditions: [{ type: 'Ready', status: 'True' }] }, 'a write keeps the stored status')
    t.same((await take(store.watch({ fromResourceVersion: start }), 1)).map((e) => e.type), ['MODIFIED'], 'the first event after the status is the user write')
    await store.setStatus(key('nobody'), { x: 1 })
    t.equal(await store.get(key('nobody')), undefined, 'status of a missing object is dropped')
  })

  t.test('setStatus with a writer keeps each writer\'s part: concurrent writers do not overwrite one another', async (t) => {
    const store = await fresh(t)
    await store.put(endpoint('w', 'w:1'))
    await store.setStatus(key('w'), { single: true })
    // Twenty writers at once, each twice: each part is its last write, none lost to another writer's update.
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await store.setStatus(key('w'), { n: i, round: 1 }, { writer: `worker-${i}` })
      await store.setStatus(key('w'), { n: i, round: 2 }, { writer: `worker-${i}` })
    }))
    const parts = (await store.get(key('w')))?.status as { parts: Record<string, unknown> }
    t.same(Object.keys(parts.parts).sort(), Array.from({ length: 20 }, (_, i) => `worker-${i}`).sort(), 'one part per writer, the single-writer status gone')
    t.same(parts.parts['worker-7'], { n: 7, round: 2 })
    await store.setStatus(key('w'), { single: 'again' })
    t.same((await store.get(key('w')))?.status, { single: 'again' }, 'a write without a writer replaces the parts')
  })

  t.test('after close, calls are refused with FG_ERR_STORE_CLOSED and close is idempotent', async (t) => {
    const store = await open()
    await store.put(endpoint('c'))
    await store.close()
    await store.close()
    await t.rejects(store.put(endpoint('d')), { code: 'FG_ERR_STORE_CLOSED' })
    await t.rejects(store.get(key('c')), { code: 'FG_ERR_STORE_CLOSED' })
  })
}
