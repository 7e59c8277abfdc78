/**
 * The resource kinds Flowgate stores, with the names people type for them (DESIGN §2, §3). `plural` is the REST
 * path segment; `short` follows kubectl's habit of short names.
 */
export const API_GROUP = 'connectivity.iotoperations.azure.com'
/** The apiVersions the seed's resources may carry; the one given is stored as given. */
export const CONNECTIVITY_API_VERSIONS = [`${API_GROUP}/v1beta1`, `${API_GROUP}/v1`] as const
export const DEFAULT_API_VERSION = CONNECTIVITY_API_VERSIONS[0]
export const DEFAULT_NAMESPACE = 'default'
/** The MQTT broker's own kinds in AIO: the device front door (listeners, authentication, authorization). */
export const BROKER_API_GROUP = 'mqttbroker.iotoperations.azure.com'
export const BROKER_API_VERSIONS = [`${BROKER_API_GROUP}/v1`, `${BROKER_API_GROUP}/v1beta1`] as const

export type ResourceKind = 'DataflowEndpoint' | 'Dataflow' | 'DataflowProfile' | 'Secret' | 'ConfigMap' | 'BrokerListener' | 'BrokerAuthentication' | 'BrokerAuthorization'

export interface KindInfo {
  kind: ResourceKind
  plural: string
  singular: string
  short: readonly string[]
  /** Whether this kind's payload is in `spec` (connectivity kinds) or top-level `data` (Kubernetes core kinds). */
  hasSpec: boolean
  /** The apiVersion a document of this kind gets when it names none. */
  apiVersion: string
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'Secret', plural: 'secrets', singular: 'secret', short: [], hasSpec: false, apiVersion: 'v1' },
  { kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', short: ['cm'], hasSpec: false, apiVersion: 'v1' },
  { kind: 'DataflowProfile', plural: 'dataflowprofiles', singular: 'dataflowprofile', short: ['dfp', 'profile', 'profiles'], hasSpec: true, apiVersion: DEFAULT_API_VERSION },
  { kind: 'DataflowEndpoint', plural: 'dataflowendpoints', singular: 'dataflowendpoint', short: ['dfe', 'endpoint', 'endpoints'], hasSpec: true, apiVersion: DEFAULT_API_VERSION },
  { kind: 'Dataflow', plural: 'dataflows', singular: 'dataflow', short: ['df'], hasSpec: true, apiVersion: DEFAULT_API_VERSION },
  { kind: 'BrokerAuthentication', plural: 'brokerauthentications', singular: 'brokerauthentication', short: ['authn', 'bauthn'], hasSpec: true, apiVersion: BROKER_API_VERSIONS[0] },
  { kind: 'BrokerAuthorization', plural: 'brokerauthorizations', singular: 'brokerauthorization', short: ['authz', 'bauthz'], hasSpec: true, apiVersion: BROKER_API_VERSIONS[0] },
  { kind: 'BrokerListener', plural: 'brokerlisteners', singular: 'brokerlistener', short: ['listener', 'listeners', 'bl'], hasSpec: true, apiVersion: BROKER_API_VERSIONS[0] }
]

/** A kind from any of its names, case-insensitively: `Dataflow`, `dataflows`, `df`, `DataflowEndpoint`. */
export function kindInfo (name: string): KindInfo | undefined {
  const n = name.toLowerCase()
  return KINDS.find((k) => k.kind.toLowerCase() === n || k.plural === n || k.singular === n || k.short.includes(n))
}

export function kindByPlural (plural: string): KindInfo | undefined {
  return KINDS.find((k) => k.plural === plural)
}
