import { metadataSchema } from './common.js'

/** Kubernetes core kinds, in their Kubernetes shape (apiVersion `v1`, payload at top level). */

// Kubernetes' rule for Secret and ConfigMap keys.
const KEY_PATTERN = '^[-._a-zA-Z0-9]+$'
const BASE64_PATTERN = '^[A-Za-z0-9+/]*={0,2}$'

export const SECRET_TYPES = ['Opaque', 'kubernetes.io/tls'] as const

export const secretSchema = {
  $id: 'https://flowgate.dev/schemas/Secret.json',
  title: 'Secret',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: { type: 'string', enum: ['v1'] },
    kind: { type: 'string', const: 'Secret' },
    metadata: metadataSchema,
    type: { type: 'string', enum: SECRET_TYPES, default: 'Opaque' },
    data: {
      type: 'object',
      propertyNames: { pattern: KEY_PATTERN },
      additionalProperties: { type: 'string', pattern: BASE64_PATTERN }
    },
    // Write-only convenience, as in Kubernetes: merged into `data` (base64) before the Secret is stored.
    stringData: {
      type: 'object',
      propertyNames: { pattern: KEY_PATTERN },
      additionalProperties: { type: 'string' }
    }
  }
} as const

export const configMapSchema = {
  $id: 'https://flowgate.dev/schemas/ConfigMap.json',
  title: 'ConfigMap',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: { type: 'string', enum: ['v1'] },
    kind: { type: 'string', const: 'ConfigMap' },
    metadata: metadataSchema,
    data: {
      type: 'object',
      default: {},
      propertyNames: { pattern: KEY_PATTERN },
      additionalProperties: { type: 'string' }
    }
  }
} as const
