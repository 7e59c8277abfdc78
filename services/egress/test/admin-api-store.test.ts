import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import type { StoredResource, WatchEvent } from '@flowgate/store'
import { adminApiStore } from '../src/admin-api-store.js'

// `flowgate egress --admin URL`: resources read through the admin REST API, changes found by polling; only statuses
// are written (the status route).

const flow = (name: string, resourceVersion: string): StoredResource => ({ apiVersion: 'v1', kind: 'Dataflow', metadata: { name, namespace: 'ns', resourceVersion } as StoredResource['metadata'], spec: {} })

t.test('lists every kind with the bearer token, refuses writes, and polls changes into watch events', async (t) => {
  let dataflows = [flow('a', '1')]
  const auth: Array<string | undefined> = []
  const server = createServer((req, res) => {
    auth.push(req.headers.authorization)
    const kind = req.url!.split('/').pop()
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ items: kind === 'dataflows' ? dataflows : [] }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const store = adminApiStore(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, 'tok', pino({ level: 'silent' }), 20)

  t.same((await store.list()).items.map((r) => r.metadata.name), ['a'])
  t.equal((await store.get({ kind: 'Dataflow', namespace: 'ns', name: 'a' }))?.metadata.name, 'a')
  t.ok(auth.every((a) => a === 'Bearer tok'), 'every request carries the token')
  await t.rejects(store.put(flow('b', '1')), { code: 'FG_ERR_STORE_READ_ONLY' })

  const abort = new AbortController()
  const events: WatchEvent[] = []
  const seen = async (n: number): Promise<void> => { while (events.length < n) await new Promise((resolve) => setTimeout(resolve, 10)) }
  const watching = (async () => { for await (const e of store.watch({ signal: abort.signal })) { events.push(e); if (events.length === 3) abort.abort() } })()
  // Each change waits for the read before it: the watch's first read (one GET per kind) is the baseline.
  const before = auth.length
  while (auth.length < before + 4) await new Promise((resolve) => setTimeout(resolve, 5))
  dataflows = [flow('a', '2'), flow('b', '1')]
  await seen(2)
  dataflows = [flow('b', '1')]
  await watching
  t.same(events.map((e) => `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`), ['MODIFIED a@2', 'ADDED b@1', 'DELETED a@2'])
})

t.test('an admin API that answers with an error fails the read with FG_ERR_ADMIN_UNAVAILABLE', async (t) => {
  const server = createServer((_req, res) => { res.statusCode = 401; res.end() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const store = adminApiStore(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, undefined, pino({ level: 'silent' }))
  await t.rejects(store.list(), { code: 'FG_ERR_ADMIN_UNAVAILABLE' })
})

t.test('a status goes back through the status route, with the token and the writer; an error fails the write', async (t) => {
  const seen: Array<{ method?: string, url?: string, auth?: string, body: string }> = []
  let answer = 200
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (b: Buffer) => { body += b.toString() })
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body })
      res.statusCode = answer
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const store = adminApiStore(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'tok', pino({ level: 'silent' }))
  const status = { conditions: [{ type: 'Ready', status: 'True' }] }
  await store.setStatus({ kind: 'Dataflow', namespace: 'ns', name: 'a b' }, status, { writer: 'egress-1' })
  await store.setStatus({ kind: 'DataflowEndpoint', namespace: 'ns', name: 'kafka' }, status)
  await store.setStatus({ kind: 'DataflowProfile', namespace: 'ns', name: 'p' }, status)
  t.same(seen.map((r) => `${r.method} ${r.url} ${r.auth}`), [
    'PUT /api/v1/namespaces/ns/dataflows/a%20b/status?writer=egress-1 Bearer tok',
    'PUT /api/v1/namespaces/ns/dataflowendpoints/kafka/status Bearer tok'
  ], 'one PUT per status-bearing resource; a profile has none')
  t.same(JSON.parse(seen[0]!.body), status)
  answer = 404
  await t.rejects(store.setStatus({ kind: 'Dataflow', namespace: 'ns', name: 'gone' }, status), { code: 'FG_ERR_ADMIN_UNAVAILABLE' })
})
