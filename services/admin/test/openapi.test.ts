import t from 'tap'
import { KINDS } from '@flowgate/resources'
import { testAdmin } from './helpers.js'

t.test('openapi.json lists every path of the API with the resource schemas', async (t) => {
  const admin = await testAdmin(t)
  const doc = await (await fetch(`${admin.url}/openapi.json`)).json() as any
  t.equal(doc.openapi, '3.1.0')
  const expected = ['/api/v1/apply', '/healthz', '/readyz', '/openapi.json']
  for (const k of KINDS) {
    expected.push(`/api/v1/${k.plural}`, `/api/v1/namespaces/{namespace}/${k.plural}`, `/api/v1/namespaces/{namespace}/${k.plural}/{name}`)
    t.ok(doc.components.schemas[k.kind], `${k.kind} schema`)
  }
  // The runtime's status route, for the kinds that carry a status.
  expected.push('/api/v1/namespaces/{namespace}/dataflows/{name}/status', '/api/v1/namespaces/{namespace}/dataflowendpoints/{name}/status')
  t.same(Object.keys(doc.paths).sort(), expected.sort())
  t.same(Object.keys(doc.paths['/api/v1/namespaces/{namespace}/dataflows/{name}']).sort(), ['delete', 'get', 'put'])
  t.ok(doc.paths['/api/v1/apply'].post)
  t.equal(doc.paths['/api/v1/namespaces/{namespace}/dataflows/{name}/status'].put.operationId, 'replaceStatusDataflow')
  t.same(doc.components.schemas.DataflowEndpoint.properties.spec.properties.kafkaSettings.properties.compression.enum, ['None', 'Gzip', 'Snappy', 'Lz4'])
  const ids = Object.values(doc.paths).flatMap((p: any) => Object.values(p).map((o: any) => o.operationId)).filter(Boolean)
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
})
