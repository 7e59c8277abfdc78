import type { ResourceKind } from '../api.js'
import { dataflowEndpointSchema } from './endpoint.js'
import { dataflowSchema } from './dataflow.js'
import { dataflowProfileSchema } from './profile.js'
import { configMapSchema, secretSchema } from './core.js'
import { brokerAuthenticationSchema, brokerAuthorizationSchema, brokerListenerSchema } from './broker.js'

export { dataflowEndpointSchema, dataflowSchema, dataflowProfileSchema, configMapSchema, secretSchema, brokerListenerSchema, brokerAuthenticationSchema, brokerAuthorizationSchema }

/** The one JSON Schema per kind: validation, TypeScript types and the OpenAPI document all derive from these. */
export const schemas = {
  DataflowEndpoint: dataflowEndpointSchema,
  Dataflow: dataflowSchema,
  DataflowProfile: dataflowProfileSchema,
  Secret: secretSchema,
  ConfigMap: configMapSchema,
  BrokerListener: brokerListenerSchema,
  BrokerAuthentication: brokerAuthenticationSchema,
  BrokerAuthorization: brokerAuthorizationSchema
} as const satisfies Record<ResourceKind, object>
