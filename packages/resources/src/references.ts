import type { ResourceKind } from './api.js'
import { DEFAULT_NAMESPACE } from './api.js'

/** A name one resource uses for another in its namespace (DESIGN §2: references resolve in the same namespace). */
export interface Reference {
  kind: ResourceKind
  namespace: string
  name: string
  /** JSON Pointer of the field holding the name. */
  path: string
}

type Doc = Record<string, any>

const AUTH_SETTINGS_WITH_SECRET = ['saslSettings', 'x509CertificateSettings', 'usernamePasswordSettings'] as const

/** Every resource `resource` names: profile and endpoints of a Dataflow; secrets and CA ConfigMap of an endpoint. */
export function references (resource: Doc): Reference[] {
  const namespace: string = resource?.metadata?.namespace ?? DEFAULT_NAMESPACE
  const ref = (kind: ResourceKind, name: unknown, path: string): Reference[] =>
    typeof name === 'string' && name !== '' ? [{ kind, namespace, name, path }] : []
  const spec = resource?.spec ?? {}
  if (resource?.kind === 'Dataflow') {
    const ops: Doc[] = Array.isArray(spec.operations) ? spec.operations : []
    return [
      ...ref('DataflowProfile', spec.profileRef, '/spec/profileRef'),
      ...ops.flatMap((op, i) => [
        ...ref('DataflowEndpoint', op?.sourceSettings?.endpointRef, `/spec/operations/${i}/sourceSettings/endpointRef`),
        ...ref('DataflowEndpoint', op?.destinationSettings?.endpointRef, `/spec/operations/${i}/destinationSettings/endpointRef`)
      ])
    ]
  }
  if (resource?.kind === 'DataflowEndpoint') {
    return (['kafkaSettings', 'mqttSettings'] as const).flatMap((s) => {
      const settings = spec[s]
      if (settings === undefined) return []
      const auth = settings.authentication ?? {}
      return [
        ...AUTH_SETTINGS_WITH_SECRET.flatMap((a) => ref('Secret', auth[a]?.secretRef, `/spec/${s}/authentication/${a}/secretRef`)),
        ...ref('ConfigMap', settings.tls?.trustedCaCertificateConfigMapRef, `/spec/${s}/tls/trustedCaCertificateConfigMapRef`)
      ]
    })
  }
  if (resource?.kind === 'BrokerListener') {
    const ports: Doc[] = Array.isArray(spec.ports) ? spec.ports : []
    return ports.flatMap((p, i) => [
      ...ref('BrokerAuthentication', p?.authenticationRef, `/spec/ports/${i}/authenticationRef`),
      ...ref('BrokerAuthorization', p?.authorizationRef, `/spec/ports/${i}/authorizationRef`),
      ...ref('Secret', p?.tls?.manual?.secretRef, `/spec/ports/${i}/tls/manual/secretRef`)
    ])
  }
  if (resource?.kind === 'BrokerAuthentication') {
    const methods: Doc[] = Array.isArray(spec.authenticationMethods) ? spec.authenticationMethods : []
    return methods.flatMap((m, i) => [
      ...ref('ConfigMap', m?.x509Settings?.trustedClientCaCert, `/spec/authenticationMethods/${i}/x509Settings/trustedClientCaCert`),
      ...ref('ConfigMap', m?.customSettings?.caCertConfigMap, `/spec/authenticationMethods/${i}/customSettings/caCertConfigMap`),
      ...ref('Secret', m?.customSettings?.auth?.x509?.secretRef, `/spec/authenticationMethods/${i}/customSettings/auth/x509/secretRef`),
      ...ref('Secret', m?.usernamePasswordSettings?.secretRef, `/spec/authenticationMethods/${i}/usernamePasswordSettings/secretRef`)
    ])
  }
  return []
}

const ORDER: Record<string, number> = { Secret: 0, ConfigMap: 0, DataflowProfile: 1, BrokerAuthentication: 1, BrokerAuthorization: 1, DataflowEndpoint: 2, BrokerListener: 2, Dataflow: 3 }

/** Referenced before referring: Secret, ConfigMap → DataflowProfile, BrokerAuthentication/-Authorization → DataflowEndpoint, BrokerListener → Dataflow; stable otherwise. */
export function dependencyOrder<T extends { kind?: unknown }> (resources: readonly T[]): T[] {
  return resources
    .map((r, i) => ({ r, i, rank: ORDER[String(r.kind)] ?? 4 }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map(({ r }) => r)
}

export interface ReferenceProblem {
  path: string
  message: string
  /** `dataflowendpoint/kafka` style name of what is missing or unfit. */
  reference: string
  code: 'FG_ERR_DANGLING_REFERENCE' | 'FG_ERR_REFERENCE_MISMATCH'
}

export type Lookup = (kind: ResourceKind, namespace: string, name: string) => Promise<Doc | undefined>

/**
 * Resolves a Dataflow's references and, through its endpoints, theirs (DESIGN §2: checked when a dataflow is
 * applied). Endpoints themselves may be stored before their Secrets, as in Kubernetes. Also checks the rule that
 * one side of a dataflow is an MQTT endpoint.
 */
export async function checkReferences (resource: Doc, lookup: Lookup): Promise<ReferenceProblem[]> {
  if (resource?.kind !== 'Dataflow') return []
  const problems: ReferenceProblem[] = []
  const endpoints = new Map<string, Doc>()
  for (const r of references(resource)) {
    const target = await lookup(r.kind, r.namespace, r.name)
    const label = `${r.kind.toLowerCase()}/${r.name}`
    if (target === undefined) {
      problems.push({ path: r.path, reference: label, code: 'FG_ERR_DANGLING_REFERENCE', message: `${label} not found in namespace ${r.namespace}` })
      continue
    }
    if (r.kind !== 'DataflowEndpoint') continue
    endpoints.set(r.path, target)
    for (const inner of references(target)) {
      const innerLabel = `${inner.kind.toLowerCase()}/${inner.name}`
      if (await lookup(inner.kind, inner.namespace, inner.name) === undefined) {
        problems.push({
          path: r.path,
          reference: innerLabel,
          code: 'FG_ERR_DANGLING_REFERENCE',
          message: `${label} refers to ${innerLabel} (${inner.path}), not found in namespace ${inner.namespace}`
        })
      }
    }
  }
  const types = [...endpoints.values()].map((e) => e?.spec?.endpointType)
  if (problems.length === 0 && endpoints.size > 0 && !types.includes('Mqtt')) {
    problems.push({ path: '/spec/operations', reference: [...endpoints.values()].map((e) => `dataflowendpoint/${String(e.metadata?.name)}`).join(', '), code: 'FG_ERR_REFERENCE_MISMATCH', message: 'one side of a dataflow must be an Mqtt endpoint' })
  }
  return problems
}
