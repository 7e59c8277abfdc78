import type { ResourceKind } from '../api.js'
import { dataflowEndpointSchema } from './endpoint.js'
import { dataflowSchema } from './dataflow.js'
import { dataflowProfileSchema } from './profile.js'
import { configMapSchema, secretSchema } from './core.js'

export { dataflowEndpointSchema, dataflowSchema, dataflowProfileSchema, configMapSchema, secretSchema }

/** The one JSON Schema per kind: validation, TypeScript types and the OpenAPI document all derive from these. */
export const schemas = {
  DataflowEndpoint: dataflowEndpointSchema,
  Dataflow: dataflowSchema,
  DataflowProfile: dataflowProfileSchema,
  Secret: secretSchema,
  ConfigMap: configMapSchema
} as const satisfies Record<ResourceKind, object>
