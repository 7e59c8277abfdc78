import type { StoredResource } from '@flowgate/store'

/** The store's resources as the runtime last saw them, by `Kind/namespace/name`. */
export type ResourceCache = Map<string, StoredResource>

export const cacheKey = (kind: string, namespace: string, name: string): string => `${kind}/${namespace}/${name}`

interface Operation {
  operationType: string
  sourceSettings?: { endpointRef: string, dataSources?: string[] }
  destinationSettings?: { endpointRef: string, dataDestination: string }
}

interface EndpointSpec {
  endpointType: 'Kafka' | 'Mqtt'
  kafkaSettings?: Record<string, unknown> & { authentication?: { method: string } & Record<string, unknown>, tls?: { mode?: string, trustedCaCertificateConfigMapRef?: string } }
  mqttSettings?: Record<string, unknown>
}

export interface EndpointRef {
  name: string
  namespace: string
  spec: EndpointSpec
  resourceVersion: string
  /** An MQTT endpoint that is Flowgate's own embedded broker, reached in process rather than over the network. */
  embedded: boolean
}

/** The annotation builtin resources carry (@flowgate/resources' BUILTIN_ANNOTATION). */
const BUILTIN = 'flowgate.dev/builtin'

/** Everything a running dataflow depends on, with the versions that would make it restart when they change. */
export interface ResolvedDataflow {
  key: string
  name: string
  namespace: string
  source: EndpointRef & { dataSources: string[] }
  destination: EndpointRef & { dataDestination: string }
  instanceCount: number
  /** Changes when the dataflow, either endpoint, or a secret or config map they use changes. */
  fingerprint: string
}

export type Resolution = { ok: true, dataflow: ResolvedDataflow } | { ok: false, reason: string, message: string }

function endpoint (cache: ResourceCache, namespace: string, name: string, embeddedHosts: ReadonlySet<string>): EndpointRef | undefined {
  const r = cache.get(cacheKey('DataflowEndpoint', namespace, name))
  if (r === undefined) return undefined
  const spec = r.spec as EndpointSpec
  const host = (spec.mqttSettings as { host?: string } | undefined)?.host
  const embedded = spec.endpointType === 'Mqtt' && (r.metadata.annotations?.[BUILTIN] === 'true' || (host !== undefined && embeddedHosts.has(host)))
  return { name, namespace, spec, resourceVersion: r.metadata.resourceVersion ?? '', embedded }
}

/** Names of the Secrets and ConfigMaps an endpoint reads, so their changes restart its dataflows. */
export function endpointDependencies (spec: EndpointSpec): Array<{ kind: 'Secret' | 'ConfigMap', name: string }> {
  const out: Array<{ kind: 'Secret' | 'ConfigMap', name: string }> = []
  const settings = spec.kafkaSettings ?? spec.mqttSettings as EndpointSpec['kafkaSettings']
  const auth = settings?.authentication as Record<string, { secretRef?: string } | string> | undefined
  for (const value of Object.values(auth ?? {})) {
    if (typeof value === 'object' && value !== null && typeof value.secretRef === 'string') out.push({ kind: 'Secret', name: value.secretRef })
  }
  const ca = settings?.tls?.trustedCaCertificateConfigMapRef
  if (ca) out.push({ kind: 'ConfigMap', name: ca })
  return out
}

/** Resolves a Dataflow against the cache; a missing piece is a reason the status shows, never a crash. */
export function resolveDataflow (resource: StoredResource, cache: ResourceCache, embeddedHosts: ReadonlySet<string> = new Set()): Resolution {
  const { name, namespace } = resource.metadata
  const spec = resource.spec as { mode?: string, profileRef?: string, operations: Operation[] }
  if (spec.mode === 'Disabled') return { ok: false, reason: 'Disabled', message: 'spec.mode is Disabled' }
  const sourceOp = spec.operations.find((o) => o.operationType === 'Source')?.sourceSettings
  const destinationOp = spec.operations.find((o) => o.operationType === 'Destination')?.destinationSettings
  if (!sourceOp || !destinationOp) return { ok: false, reason: 'InvalidSpec', message: 'a dataflow needs one Source and one Destination operation' }
  const source = endpoint(cache, namespace, sourceOp.endpointRef, embeddedHosts)
  const destination = endpoint(cache, namespace, destinationOp.endpointRef, embeddedHosts)
  if (!source) return { ok: false, reason: 'EndpointMissing', message: `source endpoint ${namespace}/${sourceOp.endpointRef} not found` }
  if (!destination) return { ok: false, reason: 'EndpointMissing', message: `destination endpoint ${namespace}/${destinationOp.endpointRef} not found` }
  const types = `${source.spec.endpointType}→${destination.spec.endpointType}`
  if (types !== 'Mqtt→Kafka' && types !== 'Kafka→Mqtt') return { ok: false, reason: 'Unsupported', message: `a dataflow from ${source.spec.endpointType} to ${destination.spec.endpointType} is not supported: one side must be MQTT, the other Kafka` }
  const profile = cache.get(cacheKey('DataflowProfile', namespace, spec.profileRef ?? 'default'))
  const instanceCount = (profile?.spec as { instanceCount?: number } | undefined)?.instanceCount ?? 1

  const versions = [resource, cache.get(cacheKey('DataflowEndpoint', namespace, source.name)), cache.get(cacheKey('DataflowEndpoint', namespace, destination.name)), profile]
  for (const ep of [source, destination]) {
    for (const dep of endpointDependencies(ep.spec)) {
      const found = cache.get(cacheKey(dep.kind, namespace, dep.name))
      if (!found) return { ok: false, reason: `${dep.kind}Missing`, message: `${dep.kind} ${namespace}/${dep.name} used by endpoint ${ep.name} not found` }
      versions.push(found)
    }
  }
  return {
    ok: true,
    dataflow: {
      key: cacheKey('Dataflow', namespace, name),
      name,
      namespace,
      source: { ...source, dataSources: sourceOp.dataSources ?? ['#'] },
      destination: { ...destination, dataDestination: destinationOp.dataDestination },
      instanceCount,
      fingerprint: versions.map((r) => r?.metadata.resourceVersion ?? '-').join(':')
    }
  }
}
