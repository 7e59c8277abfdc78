import { BROKER_API_VERSIONS } from '../api.js'
import { enabledDisabled, forbidden, metadataSchema, refSchema, statusSchema } from './common.js'

/**
 * The embedded broker's front door as Azure IoT Operations describes its MQTT broker
 * (`mqttbroker.iotoperations.azure.com/v1`): BrokerListener, BrokerAuthentication, BrokerAuthorization. Field names
 * and enums are AIO's, so its YAML applies as written; Flowgate's additions are marked where they are defined.
 */

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const

export const LISTENER_PROTOCOLS = ['Mqtt', 'WebSockets'] as const
export const TLS_MODES = ['Automatic', 'Manual'] as const
export const SERVICE_TYPES = ['ClusterIp', 'LoadBalancer', 'NodePort'] as const
export const PRIVATE_KEY_ALGORITHMS = ['Ec256', 'Ec384', 'Ec521', 'Ed25519', 'Rsa2048', 'Rsa4096', 'Rsa8192'] as const

// cert-manager's Certificate, as AIO passes it on. Off Kubernetes there is no cert-manager: Flowgate issues the
// certificate itself (see the ingress README) and uses `duration`, `privateKey.algorithm` and `san`; `issuerRef`,
// `renewBefore`, `rotationPolicy` and `secretName` are accepted so AIO's YAML applies, and reported as unused.
const certManagerCertificateSpec = {
  type: 'object',
  additionalProperties: false,
  properties: {
    duration: { type: 'string', minLength: 1 },
    renewBefore: { type: 'string', minLength: 1 },
    secretName: { type: 'string', minLength: 1 },
    issuerRef: {
      type: 'object',
      additionalProperties: false,
      properties: { group: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' } }
    },
    privateKey: {
      type: 'object',
      additionalProperties: false,
      properties: {
        algorithm: { type: 'string', enum: PRIVATE_KEY_ALGORITHMS, default: 'Ec256' },
        rotationPolicy: { type: 'string', enum: ['Always', 'Never'] }
      }
    },
    san: {
      type: 'object',
      additionalProperties: false,
      properties: { dns: stringList, ip: stringList }
    }
  }
} as const

const listenerTls = {
  type: 'object',
  additionalProperties: false,
  required: ['mode'],
  properties: {
    mode: { type: 'string', enum: TLS_MODES },
    manual: { type: 'object', additionalProperties: false, required: ['secretRef'], properties: { secretRef: refSchema } },
    certManagerCertificateSpec
  },
  allOf: [
    {
      if: { properties: { mode: { const: 'Manual' } }, required: ['mode'] },
      then: { required: ['manual'], properties: { certManagerCertificateSpec: forbidden('only allowed with mode Automatic') } }
    },
    {
      if: { properties: { mode: { const: 'Automatic' } }, required: ['mode'] },
      then: { properties: { manual: forbidden('only allowed with mode Manual') } }
    }
  ]
} as const

export const brokerListenerSchema = {
  $id: 'https://flowgate.dev/schemas/BrokerListener.json',
  title: 'BrokerListener',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: BROKER_API_VERSIONS },
    kind: { type: 'string', const: 'BrokerListener' },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['ports'],
      properties: {
        // Kubernetes-only: accepted and reported as unused in the status.
        brokerRef: { type: 'string', minLength: 1 },
        serviceName: { type: 'string', minLength: 1 },
        serviceType: { type: 'string', enum: SERVICE_TYPES },
        ports: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['port'],
            properties: {
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              nodePort: { type: 'integer', minimum: 1, maximum: 65535 },
              protocol: { type: 'string', enum: LISTENER_PROTOCOLS, default: 'Mqtt' },
              authenticationRef: refSchema,
              authorizationRef: refSchema,
              tls: listenerTls,
              // Flowgate: browser Origins a WebSockets port accepts (exact, or `*`). Without it, a request that
              // carries an Origin header (every browser's) is refused: a page could otherwise reach a device-only
              // broker through its visitors' browsers.
              allowedOrigins: stringList
            }
          }
        }
      }
    },
    status: statusSchema
  }
} as const

export const AUTHENTICATION_METHODS = ['Custom', 'ServiceAccountToken', 'X509', 'UsernamePassword'] as const

const x509Settings = {
  type: 'object',
  additionalProperties: false,
  required: ['trustedClientCaCert'],
  properties: {
    // A ConfigMap holding one or more PEM CA certificates; clients must chain to one of them.
    trustedClientCaCert: refSchema,
    authorizationAttributes: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['subject', 'attributes'],
        properties: {
          subject: { type: 'string', minLength: 1 },
          attributes: stringMap
        }
      }
    },
    additionalValidation: { type: 'string', enum: ['None', 'AzureDeviceRegistry'], default: 'None' }
  }
} as const

const customSettings = {
  type: 'object',
  additionalProperties: false,
  required: ['endpoint'],
  properties: {
    endpoint: { type: 'string', pattern: '^https://', description: 'an https:// URL' },
    caCertConfigMap: refSchema,
    auth: {
      type: 'object',
      additionalProperties: false,
      properties: {
        x509: { type: 'object', additionalProperties: false, required: ['secretRef'], properties: { secretRef: refSchema } }
      }
    },
    headers: stringMap
  }
} as const

const serviceAccountTokenSettings = {
  type: 'object',
  additionalProperties: false,
  required: ['audiences'],
  properties: {
    audiences: { ...stringList, minItems: 1 },
    // Flowgate: where the token issuer's public keys are, since there is no Kubernetes TokenReview off a cluster:
    // `file:///…/jwks.json` or an https:// URL (a cluster's `/openid/v1/jwks`).
    jwksUri: { type: 'string', pattern: '^(file|https)://', description: 'a file:// or https:// URL' },
    // Flowgate: the `iss` the tokens must carry, when set.
    issuer: { type: 'string', minLength: 1 }
  }
} as const

// Flowgate's extension, what Mosquitto and EMQX users expect: a Secret whose keys are user names and whose values
// are scrypt password hashes (`flowgate passwd`), never plain passwords.
const usernamePasswordSettings = {
  type: 'object',
  additionalProperties: false,
  required: ['secretRef'],
  properties: {
    secretRef: refSchema,
    // Authorization attributes per user name: `{ sensor-1: { building: "17" } }`.
    userAttributes: { type: 'object', additionalProperties: stringMap }
  }
} as const

const SETTINGS_OF = {
  Custom: 'customSettings',
  ServiceAccountToken: 'serviceAccountTokenSettings',
  X509: 'x509Settings',
  UsernamePassword: 'usernamePasswordSettings'
} as const

const authenticationMethod = {
  type: 'object',
  additionalProperties: false,
  required: ['method'],
  properties: {
    method: { type: 'string', enum: AUTHENTICATION_METHODS },
    customSettings,
    serviceAccountTokenSettings,
    x509Settings,
    usernamePasswordSettings
  },
  allOf: Object.entries(SETTINGS_OF).map(([method, settings]) => ({
    if: { properties: { method: { const: method } }, required: ['method'] },
    then: {
      required: [settings],
      properties: Object.fromEntries(Object.entries(SETTINGS_OF).filter(([m]) => m !== method)
        .map(([m, s]) => [s, forbidden(`only allowed with method ${m}`)]))
    }
  }))
} as const

export const brokerAuthenticationSchema = {
  $id: 'https://flowgate.dev/schemas/BrokerAuthentication.json',
  title: 'BrokerAuthentication',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: BROKER_API_VERSIONS },
    kind: { type: 'string', const: 'BrokerAuthentication' },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['authenticationMethods'],
      properties: {
        authenticationMethods: { type: 'array', minItems: 1, items: authenticationMethod }
      }
    },
    status: statusSchema
  }
} as const

export const BROKER_RESOURCE_METHODS = ['Connect', 'Publish', 'Subscribe'] as const

const brokerResource = {
  type: 'object',
  additionalProperties: false,
  required: ['method'],
  properties: {
    method: { type: 'string', enum: BROKER_RESOURCE_METHODS },
    topics: stringList,
    clientIds: stringList
  }
} as const

// AIO's distributed state store has no counterpart here: accepted so AIO's YAML applies, reported as unused.
const stateStoreResource = {
  type: 'object',
  additionalProperties: false,
  properties: {
    keyType: { type: 'string', enum: ['Pattern', 'String', 'Binary'] },
    keys: stringList,
    method: { type: 'string', enum: ['Read', 'Write', 'ReadWrite'] }
  }
} as const

export const brokerAuthorizationSchema = {
  $id: 'https://flowgate.dev/schemas/BrokerAuthorization.json',
  title: 'BrokerAuthorization',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: BROKER_API_VERSIONS },
    kind: { type: 'string', const: 'BrokerAuthorization' },
    metadata: metadataSchema,
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['authorizationPolicies'],
      properties: {
        authorizationPolicies: {
          type: 'object',
          additionalProperties: false,
          properties: {
            cache: { type: 'string', enum: enabledDisabled, default: 'Enabled' },
            // The preview API's spelling of `cache`.
            enableCache: { type: 'boolean' },
            rules: {
              type: 'array',
              default: [],
              items: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  principals: {
                    type: 'object',
                    additionalProperties: false,
                    properties: {
                      clientIds: stringList,
                      usernames: stringList,
                      attributes: { type: 'array', items: stringMap }
                    }
                  },
                  brokerResources: { type: 'array', items: brokerResource },
                  stateStoreResources: { type: 'array', items: stateStoreResource }
                }
              }
            }
          }
        }
      }
    },
    status: statusSchema
  }
} as const
