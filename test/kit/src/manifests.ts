/**
 * Resources for tests, as objects: the admin API and `flowgate apply` take a JSON list as well as YAML, so tests
 * say only what differs (host, authentication, settings, topics) instead of repeating whole manifests.
 */
const API = 'connectivity.iotoperations.azure.com/v1beta1'

export interface KafkaEndpointSpec {
  name: string
  namespace?: string
  host: string
  authentication?: Record<string, unknown>
  /** Any other kafkaSettings field (batching, compression, consumerGroupId, tls …). */
  settings?: Record<string, unknown>
}

export function kafkaEndpoint ({ name, namespace = 'azure-iot-operations', host, authentication = { method: 'Anonymous', anonymousSettings: {} }, settings = {} }: KafkaEndpointSpec): object {
  return { apiVersion: API, kind: 'DataflowEndpoint', metadata: { name, namespace }, spec: { endpointType: 'Kafka', kafkaSettings: { host, authentication, tls: { mode: 'Disabled' }, ...settings } } }
}

export interface DataflowSpec {
  name: string
  namespace?: string
  profileRef?: string
  source: { endpointRef: string, dataSources: string[] }
  destination: { endpointRef: string, dataDestination: string }
}

export function dataflow ({ name, namespace = 'azure-iot-operations', profileRef = 'default', source, destination }: DataflowSpec): object {
  return {
    apiVersion: API,
    kind: 'Dataflow',
    metadata: { name, namespace },
    spec: { profileRef, mode: 'Enabled', operations: [{ operationType: 'Source', sourceSettings: source }, { operationType: 'Destination', destinationSettings: destination }] }
  }
}

export function dataflowProfile (name: string, instanceCount: number, namespace = 'azure-iot-operations'): object {
  return { apiVersion: API, kind: 'DataflowProfile', metadata: { name, namespace }, spec: { instanceCount } }
}

export function secret (name: string, stringData: Record<string, string>, namespace = 'azure-iot-operations'): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData }
}

/** A body for `POST /api/v1/apply` (a JSON list; send it as `application/json` or `application/yaml`: JSON is YAML). */
export function manifests (...resources: object[]): string {
  return JSON.stringify(resources)
}
