/**
 * JSON Schemas (draft-07) of the two translate requests: the single source of validation for the fastify routes and
 * the fetch handler alike (validation.ts compiles them once). Binary fields are base64 (RFC 4648, padded).
 */
import { BASE64_PATTERN } from '@flowgate/translate'

const base64 = { type: 'string', pattern: BASE64_PATTERN, description: 'bytes, base64' } as const
const nullableBase64 = { type: ['string', 'null'], pattern: BASE64_PATTERN, description: 'bytes, base64, or null' } as const
const ms = { type: 'number', minimum: 0, description: 'ms since the Unix epoch' } as const
const pair = (second: object): object => ({ type: 'array', items: [{ type: 'string' }, second], minItems: 2, additionalItems: false })

/** The seed's `kafkaSettings`: the translation fields are checked; the others are accepted and ignored, so the runtime can send the endpoint whole. */
const endpoint = {
  type: 'object',
  additionalProperties: false,
  properties: {
    copyMqttProperties: { enum: ['Enabled', 'Disabled'] },
    partitionStrategy: { enum: ['Default', 'Static', 'Topic', 'Property'] },
    partitionKeyProperty: { type: 'string' },
    cloudEventAttributes: { enum: ['Propagate', 'CreateOrRemap'] },
    host: {},
    authentication: {},
    tls: {},
    consumerGroupId: {},
    compression: {},
    batching: {},
    kafkaAcks: {}
  }
} as const

const contextProperties = {
  now: ms,
  instanceId: { type: 'integer' },
  dataflow: { type: 'string' },
  destinationTopic: { type: 'string', description: 'may use ${inputTopic} and ${inputTopic.N}' },
  targetName: { type: 'string' },
  partitions: { type: 'object', additionalProperties: { type: 'integer', minimum: 1 }, description: 'Kafka topic → partition count, where known' }
} as const

const mqttMessage = {
  type: 'object',
  additionalProperties: false,
  required: ['topic', 'payload'],
  properties: {
    topic: { type: 'string' },
    payload: base64,
    qos: { enum: [0, 1, 2] },
    retain: { type: 'boolean' },
    receivedAt: ms,
    properties: {
      type: 'object',
      additionalProperties: false,
      properties: {
        payloadFormatIndicator: { enum: [true, false, 0, 1] },
        messageExpiryInterval: { type: 'integer', minimum: 0, maximum: 4294967295 },
        contentType: { type: 'string' },
        responseTopic: { type: 'string' },
        correlationData: base64,
        userProperties: { type: 'array', items: pair({ type: 'string' }), description: 'ordered [name, value] pairs; names may repeat' },
        topicAlias: { type: 'integer' },
        subscriptionIdentifier: { type: ['integer', 'array'], items: { type: 'integer' } }
      }
    }
  }
} as const

const kafkaMessage = {
  type: 'object',
  additionalProperties: false,
  required: ['topic'],
  properties: {
    topic: { type: 'string' },
    partition: { type: 'integer' },
    offset: { type: 'string' },
    key: nullableBase64,
    value: nullableBase64,
    headers: { type: 'array', items: pair(base64), description: 'ordered [name, base64 value] pairs; names may repeat' },
    timestamp: { type: ['integer', 'string'], pattern: '^-?[0-9]{1,19}$' },
    receivedAt: ms
  }
} as const

export const mqttToKafkaBody = {
  $id: 'flowgate/translate/v1/mqtt-to-kafka',
  type: 'object',
  additionalProperties: false,
  required: ['endpoint', 'context', 'messages'],
  properties: {
    endpoint,
    context: { type: 'object', additionalProperties: false, required: ['now', 'instanceId', 'dataflow', 'destinationTopic'], properties: contextProperties },
    messages: { type: 'array', items: mqttMessage }
  }
} as const

export const kafkaToMqttBody = {
  $id: 'flowgate/translate/v1/kafka-to-mqtt',
  type: 'object',
  additionalProperties: false,
  required: ['endpoint', 'context', 'messages'],
  properties: {
    endpoint,
    context: {
      type: 'object',
      additionalProperties: false,
      required: ['now', 'instanceId', 'dataflow', 'destinationTopic'],
      properties: { ...contextProperties, qos: { enum: [0, 1, 2] }, retain: { type: 'boolean' } }
    },
    messages: { type: 'array', items: kafkaMessage }
  }
} as const

export type Route = 'mqtt-to-kafka' | 'kafka-to-mqtt'
export const ROUTES: Record<Route, { path: string, schema: object }> = {
  'mqtt-to-kafka': { path: '/translate/v1/mqtt-to-kafka', schema: mqttToKafkaBody },
  'kafka-to-mqtt': { path: '/translate/v1/kafka-to-mqtt', schema: kafkaToMqttBody }
}
