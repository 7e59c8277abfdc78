import { CONNECTIVITY_API_VERSIONS } from '../api.js'
import { enabledDisabled, forbidden, metadataSchema, refSchema, statusSchema } from './common.js'

/** Dataflow: one Source, an optional BuiltInTransformation, one Destination (DESIGN §2). */

export const OPERATION_TYPES = ['Source', 'BuiltInTransformation', 'Destination'] as const

const sourceSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['endpointRef', 'dataSources'],
  properties: {
    endpointRef: refSchema,
    // MQTT topic filters (MQTT source) or Kafka topics (Kafka source).
    dataSources: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    assetRef: { type: 'string', minLength: 1 },
    serializationFormat: { type: 'string', enum: ['Json'] },
    schemaRef: { type: 'string', minLength: 1 }
  }
} as const

const destinationSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['endpointRef'],
  properties: {
    endpointRef: refSchema,
    // The seed's Dataflow example has no dataDestination: Flowgate then keeps the source topic, `${inputTopic}`.
    dataDestination: { type: 'string', minLength: 1, default: '${inputTopic}' }
  }
} as const

const stringList = { type: 'array', items: { type: 'string' } } as const

const builtInTransformationSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    serializationFormat: { type: 'string', enum: ['Delta', 'Json', 'Parquet'], default: 'Json' },
    schemaRef: { type: 'string', minLength: 1 },
    datasets: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'inputs', 'expression'],
        properties: { key: { type: 'string' }, inputs: stringList, expression: { type: 'string' }, schemaRef: { type: 'string' }, description: { type: 'string' } }
      }
    },
    filter: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['inputs', 'expression'],
        properties: { type: { type: 'string', enum: ['Filter'] }, inputs: stringList, expression: { type: 'string' }, description: { type: 'string' } }
      }
    },
    map: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['inputs', 'output'],
        properties: {
          type: { type: 'string', enum: ['NewProperties', 'Rename', 'Compute', 'PassThrough', 'BuiltInFunction'] },
          inputs: stringList,
          expression: { type: 'string' },
          output: { type: 'string' },
          description: { type: 'string' }
        }
      }
    }
  }
} as const

const settingsOf = {
  Source: 'sourceSettings',
  BuiltInTransformation: 'builtInTransformationSettings',
  Destination: 'destinationSettings'
} as const

const operationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['operationType'],
  properties: {
    operationType: { type: 'string', enum: OPERATION_TYPES },
    name: { type: 'string', minLength: 1 },
    sourceSettings: sourceSettingsSchema,
    builtInTransformationSettings: builtInTransformationSettingsSchema,
    destinationSettings: destinationSettingsSchema
  },
  allOf: OPERATION_TYPES.map((op) => ({
    if: { properties: { operationType: { const: op } }, required: ['operationType'] },
    then: {
      required: op === 'BuiltInTransformation' ? [] : [settingsOf[op]],
      properties: Object.fromEntries(OPERATION_TYPES.filter((o) => o !== op)
        .map((o) => [settingsOf[o], forbidden(`only allowed with operationType ${o}`)]))
    }
  }))
} as const

export const dataflowSchema = {
  $id: 'https://flowgate.dev/schemas/Dataflow.json',
  title: 'Dataflow',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: CONNECTIVITY_API_VERSIONS },
    kind: { type: 'string', const: 'Dataflow' },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['operations'],
      properties: {
        profileRef: { ...refSchema, default: 'default' },
        mode: { type: 'string', enum: enabledDisabled, default: 'Enabled' },
        // Exactly one Source and one Destination: checked in rules.ts (draft-07 has no maxContains).
        operations: { type: 'array', minItems: 2, maxItems: 3, items: operationSchema }
      }
    },
    status: statusSchema
  }
} as const
