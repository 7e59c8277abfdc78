import { CONNECTIVITY_API_VERSIONS } from '../api.js'
import { enabledDisabled, forbidden, metadataSchema, refSchema, statusSchema } from './common.js'

/**
 * DataflowEndpoint, as the seed page (howto-configure-kafka-endpoint.md) writes it, plus `mqttSettings` for MQTT
 * brokers following Azure IoT Operations' MQTT endpoint. Defaults are the seed's.
 */

const tlsSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    mode: { type: 'string', enum: enabledDisabled, default: 'Enabled' },
    trustedCaCertificateConfigMapRef: refSchema
  }
} as const

const emptySettings = { type: 'object', additionalProperties: false, properties: {} } as const
const secretRefSettings = { type: 'object', additionalProperties: false, required: ['secretRef'], properties: { secretRef: refSchema } } as const
const systemAssignedSettings = {
  type: 'object',
  additionalProperties: false,
  // Unset: the runtime uses https://<namespace>.servicebus.windows.net from the host, as the seed says.
  properties: { audience: { type: 'string', minLength: 1 } }
} as const
// The seed writes `userAssignedManagedIdentitySettings: {}`, so nothing is required here; without a clientId the
// runtime falls back to @azure/identity's environment (AZURE_CLIENT_ID).
const userAssignedSettings = {
  type: 'object',
  additionalProperties: false,
  properties: {
    clientId: { type: 'string', minLength: 1 },
    tenantId: { type: 'string', minLength: 1 },
    scope: { type: 'string', minLength: 1 }
  }
} as const

/** One `if method = M then settings S may (or must) appear, the other methods' settings may not` per method. */
function methodRules<const M extends Record<string, { settings: string, required: boolean }>> (methods: M) {
  const entries = Object.entries(methods)
  return entries.map(([method, { settings, required }]) => ({
    if: { properties: { method: { const: method } }, required: ['method'] },
    then: {
      ...(required ? { required: [settings] } : {}),
      properties: Object.fromEntries(entries.filter(([m]) => m !== method)
        .map(([m, o]) => [o.settings, forbidden(`only allowed with method ${m}`)]))
    }
  }))
}

export const KAFKA_AUTH_METHODS = ['SystemAssignedManagedIdentity', 'UserAssignedManagedIdentity', 'Sasl', 'X509Certificate', 'Anonymous'] as const
export const SASL_TYPES = ['Plain', 'ScramSha256', 'ScramSha512'] as const

const kafkaAuthenticationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['method'],
  // Not in the seed: a local Kafka without authentication needs no authentication block.
  default: { method: 'Anonymous', anonymousSettings: {} },
  properties: {
    method: { type: 'string', enum: KAFKA_AUTH_METHODS },
    systemAssignedManagedIdentitySettings: systemAssignedSettings,
    userAssignedManagedIdentitySettings: userAssignedSettings,
    saslSettings: {
      type: 'object',
      additionalProperties: false,
      required: ['saslType', 'secretRef'],
      properties: { saslType: { type: 'string', enum: SASL_TYPES }, secretRef: refSchema }
    },
    x509CertificateSettings: secretRefSettings,
    anonymousSettings: emptySettings
  },
  allOf: methodRules({
    SystemAssignedManagedIdentity: { settings: 'systemAssignedManagedIdentitySettings', required: false },
    UserAssignedManagedIdentity: { settings: 'userAssignedManagedIdentitySettings', required: false },
    Sasl: { settings: 'saslSettings', required: true },
    X509Certificate: { settings: 'x509CertificateSettings', required: true },
    Anonymous: { settings: 'anonymousSettings', required: false }
  })
} as const

export const COMPRESSIONS = ['None', 'Gzip', 'Snappy', 'Lz4'] as const
export const PARTITION_STRATEGIES = ['Default', 'Static', 'Topic', 'Property'] as const
/** `None` is the preview API's alias of `Zero` (DESIGN §2); stored as written, mapped to Kafka's acks by `kafkaAcks` in @flowgate/kafka. */
export const KAFKA_ACKS = ['Zero', 'One', 'All', 'None'] as const
export const CLOUD_EVENT_ATTRIBUTES = ['Propagate', 'CreateOrRemap'] as const

export const kafkaSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: { type: 'string', minLength: 1 },
    authentication: kafkaAuthenticationSchema,
    tls: tlsSchema,
    consumerGroupId: { type: 'string', minLength: 1 },
    compression: { type: 'string', enum: COMPRESSIONS, default: 'None' },
    batching: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // "If not set, the default value is Enabled because Kafka doesn't have a notion of unbatched messaging."
        mode: { type: 'string', enum: enabledDisabled, default: 'Enabled' },
        // The seed's example spells it `enabled: true`; normalised to `mode` before it is stored.
        enabled: { type: 'boolean' },
        latencyMs: { type: 'integer', minimum: 0, default: 5 },
        maxMessages: { type: 'integer', minimum: 1, default: 100000 },
        maxBytes: { type: 'integer', minimum: 1, default: 1000000 }
      }
    },
    partitionStrategy: { type: 'string', enum: PARTITION_STRATEGIES, default: 'Default' },
    partitionKeyProperty: { type: 'string', minLength: 1 },
    kafkaAcks: { type: 'string', enum: KAFKA_ACKS, default: 'All' },
    copyMqttProperties: { type: 'string', enum: enabledDisabled, default: 'Enabled' },
    cloudEventAttributes: { type: 'string', enum: CLOUD_EVENT_ATTRIBUTES, default: 'Propagate' }
  },
  allOf: [{
    if: { properties: { partitionStrategy: { const: 'Property' } }, required: ['partitionStrategy'] },
    then: { required: ['partitionKeyProperty'] }
  }]
} as const

/**
 * MQTT endpoint authentication: AIO's methods, plus `UsernamePassword` (a Flowgate extension: most brokers outside
 * AIO, Mosquitto included, authenticate with a user name and password; the Secret holds `username`, `password`).
 */
// The runtime reads the token from `<token dir>/<audience>` and sends it to the broker the endpoint names: a path
// in the audience (`../../.flowgate/secret.key`) would send any readable file there. A plain file name only, as
// @flowgate/mqtt checks again before reading (client-options.ts).
const AUDIENCE_PATTERN = '^(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9._-]*$'
const AUDIENCE_RULE = 'a plain name: letters, digits, -, ., _, starting with a letter or digit, no / or ..'

export const MQTT_AUTH_METHODS = ['SystemAssignedManagedIdentity', 'UserAssignedManagedIdentity', 'ServiceAccountToken', 'X509Certificate', 'UsernamePassword', 'Anonymous'] as const

const mqttAuthenticationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['method'],
  default: { method: 'Anonymous', anonymousSettings: {} },
  properties: {
    method: { type: 'string', enum: MQTT_AUTH_METHODS },
    systemAssignedManagedIdentitySettings: systemAssignedSettings,
    userAssignedManagedIdentitySettings: userAssignedSettings,
    serviceAccountTokenSettings: {
      type: 'object',
      additionalProperties: false,
      required: ['audience'],
      properties: { audience: { type: 'string', minLength: 1, maxLength: 253, pattern: AUDIENCE_PATTERN, description: AUDIENCE_RULE } }
    },
    x509CertificateSettings: secretRefSettings,
    usernamePasswordSettings: secretRefSettings,
    anonymousSettings: emptySettings
  },
  allOf: methodRules({
    SystemAssignedManagedIdentity: { settings: 'systemAssignedManagedIdentitySettings', required: false },
    UserAssignedManagedIdentity: { settings: 'userAssignedManagedIdentitySettings', required: false },
    ServiceAccountToken: { settings: 'serviceAccountTokenSettings', required: true },
    X509Certificate: { settings: 'x509CertificateSettings', required: true },
    UsernamePassword: { settings: 'usernamePasswordSettings', required: true },
    Anonymous: { settings: 'anonymousSettings', required: false }
  })
} as const

export const MQTT_RETAIN = ['Keep', 'Never'] as const
export const MQTT_PROTOCOLS = ['Mqtt', 'WebSockets'] as const

export const mqttSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['host'],
  properties: {
    host: { type: 'string', minLength: 1 },
    protocol: { type: 'string', enum: MQTT_PROTOCOLS, default: 'Mqtt' },
    authentication: mqttAuthenticationSchema,
    tls: tlsSchema,
    clientIdPrefix: { type: 'string', minLength: 1 },
    qos: { type: 'integer', enum: [0, 1], default: 1 },
    retain: { type: 'string', enum: MQTT_RETAIN, default: 'Keep' },
    keepAliveSeconds: { type: 'integer', minimum: 0, maximum: 65535, default: 60 },
    sessionExpirySeconds: { type: 'integer', minimum: 0, maximum: 4294967295, default: 3600 },
    maxInflightMessages: { type: 'integer', minimum: 1, maximum: 65535, default: 100 },
    // The seed's CloudEvents section writes it under mqttSettings (capitalised; names match case-insensitively).
    cloudEventAttributes: { type: 'string', enum: CLOUD_EVENT_ATTRIBUTES, default: 'Propagate' }
  }
} as const

export const ENDPOINT_TYPES = ['Kafka', 'Mqtt'] as const

export const dataflowEndpointSchema = {
  $id: 'https://flowgate.dev/schemas/DataflowEndpoint.json',
  title: 'DataflowEndpoint',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: CONNECTIVITY_API_VERSIONS },
    kind: { type: 'string', const: 'DataflowEndpoint' },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['endpointType'],
      properties: {
        endpointType: { type: 'string', enum: ENDPOINT_TYPES },
        kafkaSettings: kafkaSettingsSchema,
        mqttSettings: mqttSettingsSchema
      },
      allOf: [
        {
          if: { properties: { endpointType: { const: 'Kafka' } }, required: ['endpointType'] },
          then: { required: ['kafkaSettings'], properties: { mqttSettings: forbidden('only allowed with endpointType Mqtt') } }
        },
        {
          if: { properties: { endpointType: { const: 'Mqtt' } }, required: ['endpointType'] },
          then: { required: ['mqttSettings'], properties: { kafkaSettings: forbidden('only allowed with endpointType Kafka') } }
        }
      ]
    },
    status: statusSchema
  }
} as const
