import type { FromSchema } from 'json-schema-to-ts'
import type { brokerAuthenticationSchema, brokerAuthorizationSchema, brokerListenerSchema, configMapSchema, dataflowEndpointSchema, dataflowProfileSchema, dataflowSchema, secretSchema } from './schemas/index.js'

/** Stored (validated, defaulted) resources, derived from the schemas: defaulted fields are present. */
export type DataflowEndpoint = FromSchema<typeof dataflowEndpointSchema>
export type Dataflow = FromSchema<typeof dataflowSchema>
export type DataflowProfile = FromSchema<typeof dataflowProfileSchema>
export type Secret = FromSchema<typeof secretSchema>
export type ConfigMap = FromSchema<typeof configMapSchema>
export type BrokerListener = FromSchema<typeof brokerListenerSchema>
export type BrokerAuthentication = FromSchema<typeof brokerAuthenticationSchema>
export type BrokerAuthorization = FromSchema<typeof brokerAuthorizationSchema>
export type Resource = DataflowEndpoint | Dataflow | DataflowProfile | Secret | ConfigMap | BrokerListener | BrokerAuthentication | BrokerAuthorization

export type ListenerPort = BrokerListener['spec']['ports'][number]
export type AuthenticationMethod = BrokerAuthentication['spec']['authenticationMethods'][number]
export type AuthorizationRule = NonNullable<BrokerAuthorization['spec']['authorizationPolicies']['rules']>[number]

export type KafkaSettings = NonNullable<DataflowEndpoint['spec']['kafkaSettings']>
export type MqttSettings = NonNullable<DataflowEndpoint['spec']['mqttSettings']>
export type DataflowOperation = Dataflow['spec']['operations'][number]

export interface ValidationError {
  /** JSON Pointer into the document: `/spec/kafkaSettings/compression`. */
  path: string
  message: string
  /** The accepted values (enums) or field names (unknown field). */
  allowed?: readonly unknown[]
}

export type ValidationResult =
  | { ok: true, resource: Resource }
  | { ok: false, errors: ValidationError[] }
