import type { Test } from 'tap'
import type { Store, StoredResource, WatchEvent } from '../src/index.js'

const endpoint = (name: string, host = 'kafka:9092'): StoredResource => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name, namespace: 'default' },
  spec: { endpointType: 'Kafka', kafkaSettings: { host } }
})

async function take (iterable: AsyncIterable<WatchEvent>, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = []
  for await (const e of iterable) { out.push(e); if (out.length >= n) break }
  return out
}

/** The behaviour every store backend promises (packages/store/src/types.ts), run against each of them. */
export function conformance (t: Test, open: () => Promise<Store>): void {
  t.test('put creates, then replaces with a new resourceVersion; generation moves only when the spec does', async (t) => {
    const store = await open()
    t.teardown(() => store.close())
    const created = await store.put(endpoint('kafka'))
    t.equal(created.created, true)
    t.equal(created.resource.metadata.generation, 1)
    t.ok(created.resource.metadata.creationTimestamp)
    const same = await store.put(endpoint('kafka'))
    t.equal(same.created, false)
    t.equal(same.resource.metadata.generation, 1, 'same spec, same generation')
    t.ok(BigInt(same.resource.metadata.resourceVersion!) > BigInt(created.resource.metadata.resourceVersion!), 'resourceVersion grows')
    const changed = await store.put(endpoint('kafka', 'other:9092'))
    t.equal(changed.resource.metadata.generation, 2)
    t.equal(changed.resource.metadata.creationTimestamp, created.resource.metadata.creationTimestamp)
    t.same((await store.get({ kind: 'DataflowEndpoint', namespace: 'default', name: 'kafka' }))?.spec, { endpointType: 'Kafka', kafkaSettings: { host: 'other:9092' } })
  })

  t.test('a write with a stale resourceVersion is refused with FG_ERR_STORE_CONFLICT', async (t) => {
    const store = await open()
    t.teardown(() => store.close())
    const first = await store.put(endpoint('a'))
    await store.put(endpoint('a', 'x:1'))
    await t.rejects(store.put(endpoint('a', 'y:1'), { expectedResourceVersion: first.resource.metadata.resourceVersion! }), { code: 'FG_ERR_STORE_CONFLICT', statusCode: 409 })
    await t.rejects(store.delete({ kind: 'DataflowEndpoint', namespace: 'default', name: 'a' }, { expectedResourceVersion: first.resource.metadata.resourceVersion! }), { code: 'FG_ERR_STORE_CONFLICT' })
    await t.rejects(store.put(endpoint('missing'), { expectedResourceVersion: '1' }), { code: 'FG_ERR_STORE_CONFLICT' }, 'a precondition on a missing object fails')
  })

  t.test('putAll writes all or nothing', async (t) => {
    const store = await open()
    t.teardown(() => store.close())
    const a = await store.put(endpoint('a'))
    await store.put(endpoint('a', 'moved:1'))
    await t.rejects(store.putAll([{ resource: endpoint('b') }, { resource: endpoint('a'), options: { expectedResourceVersion: a.resource.metadata.resourceVersion! } }]), { code: 'FG_ERR_STORE_CONFLICT' })
    t.equal(await store.get({ kind: 'DataflowEndpoint', namespace: 'default', name: 'b' }), undefined, 'b was not written')
    const both = await store.putAll([{ resource: endpoint('b') }, { resource: endpoint('c') }])
    t.same(both.map((r) => r.created), [true, true])
  })

  t.test('list filters by kind and namespace and sorts by namespace then name', async (t) => {
    const store = await open()
    t.teardown(() => store.close())
    await store.putAll([{ resource: endpoint('z') }, { resource: endpoint('m') }, { resource: { ...endpoint('q'), metadata: { name: 'q', namespace: 'aio' } } }])
    t.same((await store.list({ kind: 'DataflowEndpoint' })).items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`), ['aio/q', 'default/m', 'default/z'])
    t.same((await store.list({ namespace: 'aio' })).items.map((r) => r.metadata.name), ['q'])
  })

  t.test('watch replays what came after a resourceVersion, then follows live changes, deletes included', async (t) => {
    const store = await open()
    t.teardown(() => store.close())
    const start = (await store.list()).resourceVersion
    await store.put(endpoint('w1'))
    const abort = new AbortController()
    const events = take(store.watch({ fromResourceVersion: start, signal: abort.signal }), 3)
    await store.put(endpoint('w1', 'changed:1'))
    await store.delete({ kind: 'DataflowEndpoint', namespace: 'default', name: 'w1' })
    t.same((await events).map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED'])
    abort.abort()
  })

  t.test('setStatus keeps observed state apart: no new resourceVersion, no watch event, not replaced by a user write', async (t) => {
    const store = await open()
    t.teardown(() => store.close())
    const put = await store.put(endpoint('s'))
    await store.setStatus({ kind: 'DataflowEndpoint', namespace: 'default', name: 's' }, { conditions: [{ type: 'Ready', status: 'True' }] })
    const read = await store.get({ kind: 'DataflowEndpoint', namespace: 'default', name: 's' })
    t.equal(read?.metadata.resourceVersion, put.resource.metadata.resourceVersion)
    t.same(read?.status, { conditions: [{ type: 'Ready', status: 'True' }] })
    await store.put(endpoint('s', 'new:1'))
    t.same((await store.get({ kind: 'DataflowEndpoint', namespace: 'default', name: 's' }))?.status, { conditions: [{ type: 'Ready', status: 'True' }] })
  })
}
