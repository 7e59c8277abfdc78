import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openFileStore, type StoredResource } from '@flowgate/store'
import { ingressView } from '../src/ingress-view.js'
import { storeReader } from '../src/store-reader.js'

// The split egress' view of its store (standalone.ts): the built-in `default` endpoint at the ingress' address, and
// endpoint Secrets / ConfigMaps read from the store — unsealed with the key, or refused when only the admin API
// (which serves no Secret values) is the store.

const meta = (name: string, extra: Record<string, unknown> = {}): StoredResource['metadata'] => ({ name, namespace: 'ns', resourceVersion: '1', ...extra } as StoredResource['metadata'])

async function tempStore (t: Test): Promise<Awaited<ReturnType<typeof openFileStore>>> {
  const dir = await mkdtemp(join(tmpdir(), 'flowgate-standalone-'))
  const store = await openFileStore(dir)
  t.teardown(async () => { await store.close(); await rm(dir, { recursive: true, force: true }) })
  return store
}

t.test('the built-in default endpoint is handed on at the ingress\' address, without the built-in mark; others unchanged', async (t) => {
  const store = await tempStore(t)
  await store.put({ apiVersion: 'v1', kind: 'DataflowEndpoint', metadata: meta('default', { annotations: { 'flowgate.dev/builtin': 'true', keep: 'me' } }), spec: { endpointType: 'Mqtt', mqttSettings: { host: 'localhost:1883', tls: { mode: 'Enabled' } } } })
  await store.put({ apiVersion: 'v1', kind: 'DataflowEndpoint', metadata: meta('other'), spec: { endpointType: 'Mqtt', mqttSettings: { host: 'broker:1883' } } })
  const view = ingressView(store, 'ingress.svc:8883')
  const builtin = await view.get({ kind: 'DataflowEndpoint', namespace: 'ns', name: 'default' })
  t.same(builtin?.spec, { endpointType: 'Mqtt', mqttSettings: { host: 'ingress.svc:8883', tls: { mode: 'Enabled' } } }, 'only the host changes: TLS stays the endpoint\'s')
  t.same(builtin?.metadata.annotations, { keep: 'me' })
  const listed = (await view.list()).items.find((r) => r.metadata.name === 'other')
  t.same(listed?.spec, { endpointType: 'Mqtt', mqttSettings: { host: 'broker:1883' } })
})

t.test('Secrets are unsealed and decoded; missing ones and ConfigMaps fail with their codes', async (t) => {
  const store = await tempStore(t)
  await store.put({ apiVersion: 'v1', kind: 'Secret', metadata: meta('creds'), data: { sealed: 'x' } })
  await store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('ca'), data: { 'ca.crt': 'PEM' } })
  const unseal = (s: StoredResource): StoredResource => ({ ...s, data: { password: Buffer.from('s3cret').toString('base64') } })
  const reader = storeReader(store, unseal)
  t.equal((await reader.secret('ns', 'creds')).password?.toString(), 's3cret')
  await t.rejects(reader.secret('ns', 'nope'), { code: 'FG_ERR_SECRET_MISSING', message: 'Secret ns/nope not found' })
  t.same(await reader.configMap('ns', 'ca'), { 'ca.crt': 'PEM' })
  await t.rejects(reader.configMap('ns', 'nope'), { code: 'FG_ERR_CONFIGMAP_MISSING', message: 'ConfigMap ns/nope not found' })
})

t.test('over the admin API (no unsealing): Secrets are refused with FG_ERR_SECRET_UNAVAILABLE, ConfigMaps still read', async (t) => {
  const store = await tempStore(t)
  await store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('ca'), data: { 'ca.crt': 'PEM' } })
  const reader = storeReader(store)
  await t.rejects(reader.secret('ns', 'creds'), { code: 'FG_ERR_SECRET_UNAVAILABLE', message: 'Secret ns/creds: values are not served by the admin API; run the egress with --store' })
  t.same(await reader.configMap('ns', 'ca'), { 'ca.crt': 'PEM' })
})
