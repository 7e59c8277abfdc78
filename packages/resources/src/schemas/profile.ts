import { CONNECTIVITY_API_VERSIONS } from '../api.js'
import { metadataSchema, statusSchema } from './common.js'

/** DataflowProfile: how many runtime instances run the dataflows that name it (the Static partition strategy uses the instance id). */
export const dataflowProfileSchema = {
  $id: 'https://flowgate.dev/schemas/DataflowProfile.json',
  title: 'DataflowProfile',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: { type: 'string', enum: CONNECTIVITY_API_VERSIONS },
    kind: { type: 'string', const: 'DataflowProfile' },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        instanceCount: { type: 'integer', minimum: 1, default: 1 },
        diagnostics: {
          type: 'object',
          additionalProperties: false,
          properties: {
            logs: { type: 'object', additionalProperties: false, properties: { level: { type: 'string', minLength: 1 } } },
            metrics: { type: 'object', additionalProperties: false, properties: { prometheusPort: { type: 'integer', minimum: 0, maximum: 65535 } } }
          }
        }
      }
    },
    status: statusSchema
  }
} as const
