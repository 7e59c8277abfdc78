/** Schema pieces every kind shares. Draft-07, compiled by ajv 8; `as const` so json-schema-to-ts derives the types. */

/** A reference to another resource in the same namespace, by name. No name pattern: the seed's placeholders
 * (`<YOUR-TOKEN-SECRET-NAME>`) must apply verbatim; an unresolvable name is reported when a dataflow resolves it. */
export const refSchema = { type: 'string', minLength: 1 } as const

// Names end up in REST paths and file names: DNS-1123 like Kubernetes (a subdomain for names, a label for namespaces).
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$'
export const NAMESPACE_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'

export const metadataSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, pattern: NAME_PATTERN },
    namespace: { type: 'string', minLength: 1, maxLength: 63, pattern: NAMESPACE_PATTERN, default: 'default' },
    // Server-set fields: accepted so that `get -o yaml` output applies again; only resourceVersion is used
    // (a conditional write), the rest are set by the store.
    resourceVersion: { type: 'string' },
    generation: { type: 'integer' },
    creationTimestamp: { type: 'string' },
    uid: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } }
  }
} as const

/** Observed state is the runtime's: accepted on input (round trips of `get -o yaml`) and dropped. */
export const statusSchema = { type: 'object' } as const

export const enabledDisabled = ['Enabled', 'Disabled'] as const

/** A property that may not appear in this branch; the description is the error message. */
export function forbidden<const D extends string> (description: D) {
  return { not: {}, description } as const
}
