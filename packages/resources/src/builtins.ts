import { DEFAULT_API_VERSION } from './api.js'
import { validate } from './validate.js'
import type { Resource } from './types.js'

export interface BuiltinOptions {
  /** The embedded broker's address as the runtime reaches it. */
  mqttHost?: string
  /**
   * Namespaces that get the built-ins. `azure-iot-operations` too, because every manifest in the seed lives there
   * and its Dataflow names `profileRef: default`.
   */
  namespaces?: readonly string[]
}

export const BUILTIN_ANNOTATION = 'flowgate.dev/builtin'

/** What a fresh store holds (DESIGN §2): the `default` Mqtt endpoint (the embedded broker) and the `default` profile. */
export function builtinResources (options: BuiltinOptions = {}): Resource[] {
  const mqttHost = options.mqttHost ?? 'localhost:1883'
  const namespaces = options.namespaces ?? ['default', 'azure-iot-operations']
  return namespaces.flatMap((namespace) => {
    const metadata = { name: 'default', namespace, annotations: { [BUILTIN_ANNOTATION]: 'true' } }
    return [
      { apiVersion: DEFAULT_API_VERSION, kind: 'DataflowProfile', metadata, spec: { instanceCount: 1 } },
      {
        apiVersion: DEFAULT_API_VERSION,
        kind: 'DataflowEndpoint',
        metadata,
        // The embedded broker listens on loopback without TLS; the runtime binds to it in process.
        spec: { endpointType: 'Mqtt', mqttSettings: { host: mqttHost, tls: { mode: 'Disabled' }, authentication: { method: 'Anonymous', anonymousSettings: {} } } }
      }
    ].map((doc) => {
      const result = validate(doc)
      if (!result.ok) throw new Error(`built-in ${doc.kind} invalid: ${JSON.stringify(result.errors)}`)
      return result.resource
    })
  })
}
