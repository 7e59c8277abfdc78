import t from 'tap'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { testAdmin } from './helpers.js'

// Bad input never yields a 5xx: random JSON, random text, and the seed's own resources with one field mutated are
// thrown at every write route; each answer is a 2xx or a 4xx with a code, and the server stays up.

const endpoint = {
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name: 'kafka', namespace: 'azure-iot-operations' },
  spec: {
    endpointType: 'Kafka',
    kafkaSettings: {
      host: 'kafka.example:9093',
      authentication: { method: 'Sasl', saslSettings: { saslType: 'ScramSha256', secretRef: 'sasl' } },
      tls: { mode: 'Enabled' },
      consumerGroupId: 'mqConnector',
      batching: { enabled: true, latencyMs: 1000, maxMessages: 100, maxBytes: 1024 },
      partitionStrategy: 'Property',
      partitionKeyProperty: 'device-id'
    }
  }
}
const dataflow = {
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'Dataflow',
  metadata: { name: 'df', namespace: 'azure-iot-operations' },
  spec: { profileRef: 'default', mode: 'Enabled', operations: [{ operationType: 'Source', sourceSettings: { endpointRef: 'default', dataSources: ['#'] } }, { operationType: 'Destination', destinationSettings: { endpointRef: 'kafka', dataDestination: 't' } }] }
}

/** Paths of every node of a JSON value, for mutation. */
function paths (v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof v !== 'object' || v === null) return [at]
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v)
  return [at, ...entries.flatMap(([k, x]) => paths(x, [...at, k]))]
}

function mutate (doc: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value
  const copy: any = Array.isArray(doc) ? [...doc] : { ...(doc as object) }
  copy[path[0]!] = mutate(copy[path[0]!], path.slice(1), value)
  return copy
}

const mutated = fc.constantFrom(endpoint, dataflow).chain((doc) =>
  fc.tuple(fc.constantFrom(...paths(doc)), fc.oneof(fc.jsonValue(), fc.string(), fc.constant(undefined))).map(([p, v]) => mutate(doc, p, v)))

t.test('random and mutated manifests never get a 5xx from apply, PUT or DELETE', async (t) => {
  const admin = await testAdmin(t)
  const statuses = new Map<number, number>()
  await fc.assert(fc.asyncProperty(
    fc.oneof(mutated, fc.jsonValue(), fc.array(mutated, { maxLength: 3 })),
    fc.constantFrom('json', 'yaml'),
    async (body, as) => {
      const text = as === 'json' ? JSON.stringify(body) ?? 'null' : stringify(body ?? null)
      const headers = { 'content-type': as === 'json' ? 'application/json' : 'application/yaml' }
      for (const [method, path] of [['POST', '/api/v1/apply'], ['PUT', '/api/v1/namespaces/azure-iot-operations/dataflowendpoints/kafka'], ['PUT', '/api/v1/namespaces/azure-iot-operations/dataflows/df']] as const) {
        const res = await admin.call(method, path, text, headers)
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        if (res.status >= 500) return false
        if (res.status >= 400 && typeof res.body?.code !== 'string') return false
      }
      return true
    }
  ), { numRuns: 150 })
  await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300 }), async (text) => {
    const res = await admin.call('POST', '/api/v1/apply', text, { 'content-type': 'application/yaml' })
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    return res.status < 500
  }), { numRuns: 150 })
  t.ok([...statuses.keys()].every((s) => s < 500), `answers: ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok([...statuses.keys()].some((s) => s < 300), 'some mutations are still valid and stored')
  t.equal((await admin.call('GET', '/api/v1/dataflowendpoints')).status, 200, 'the server is still up')
})
