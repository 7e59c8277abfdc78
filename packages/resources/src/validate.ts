import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { KINDS, type ResourceKind } from './api.js'
import { normaliseBySchema } from './normalise.js'
import { authorizationTopics, dataflowOperationCounts, eventHubsCompression, fragmentHint, placeholders, mergeStringData, normaliseBatchingEnabled, tlsSecretKeys } from './rules.js'
import { schemas } from './schemas/index.js'
import type { Resource, ValidationError, ValidationResult } from './types.js'

// allErrors: every offending path in one answer; useDefaults: the stored resource carries the seed's defaults;
// verbose: errors carry their schema, whose `description` words the "only allowed with …" messages.
const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: false })
const validators = Object.fromEntries(Object.entries(schemas).map(([kind, s]) => [kind, ajv.compile(s)])) as Record<ResourceKind, ValidateFunction>

/**
 * Checks one resource document and returns it normalised (enum and field-name spelling, `batching.enabled`,
 * `stringData`) with defaults applied, or every error found, each with its JSON Pointer path.
 */
export function validate (doc: unknown): ValidationResult {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: false, errors: [{ path: '', message: 'a resource must be an object with apiVersion, kind, metadata' }] }
  }
  const rawKind = (doc as Record<string, unknown>).kind ?? (doc as Record<string, unknown>).Kind
  const info = typeof rawKind === 'string' ? KINDS.find((k) => k.kind.toLowerCase() === rawKind.toLowerCase()) : undefined
  if (info === undefined) {
    const hint = rawKind === undefined ? fragmentHint(doc as Record<string, unknown>) : undefined
    if (hint !== undefined) return { ok: false, errors: [hint] }
    return {
      ok: false,
      errors: [{ path: '/kind', message: rawKind === undefined ? 'required' : `unknown kind ${JSON.stringify(rawKind)}`, allowed: KINDS.map((k) => k.kind) }]
    }
  }
  const resource = normaliseBySchema(schemas[info.kind], doc) as Record<string, any>
  const errors: ValidationError[] = [...normaliseBatchingEnabled(resource)]
  const validator = validators[info.kind]
  if (!validator(resource)) errors.push(...(validator.errors ?? []).flatMap(fromAjv))
  if (errors.length === 0) {
    if (info.kind === 'Dataflow') errors.push(...dataflowOperationCounts(resource))
    if (info.kind === 'DataflowEndpoint') errors.push(...eventHubsCompression(resource))
    if (info.kind === 'BrokerAuthorization') errors.push(...authorizationTopics(resource))
    if (info.kind === 'Secret') {
      mergeStringData(resource)
      errors.push(...tlsSecretKeys(resource))
    }
  }
  errors.push(...placeholders(resource))
  if (errors.length > 0) return { ok: false, errors: mergeByPath(errors) }
  // Observed state belongs to the runtime: a status in the input (a round trip of `get -o yaml`) is dropped.
  delete resource.status
  return { ok: true, resource: resource as Resource }
}

function escapePointer (segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1')
}

function fromAjv (e: ErrorObject): ValidationError[] {
  const at = e.instancePath
  switch (e.keyword) {
    // The failing branch condition says nothing a person can act on; its `then` errors do.
    case 'if': return []
    // Reported again, better, by the failing key's own error (which carries propertyName).
    case 'propertyNames': return []
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {})
      const name = String((e.params as { additionalProperty: string }).additionalProperty)
      return [{ path: `${at}/${escapePointer(name)}`, message: 'unknown field', ...(known.length > 0 ? { allowed: known } : {}) }]
    }
    case 'required':
      return [{ path: `${at}/${escapePointer(String((e.params as { missingProperty: string }).missingProperty))}`, message: 'required' }]
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues
      // The allowed values travel apart (`allowed`); the message names what was given (enums hold no secrets).
      return [{ path: at, message: `unknown value ${JSON.stringify(e.data)?.slice(0, 80) ?? 'undefined'}`, allowed }]
    }
    case 'const': {
      const allowed = [(e.params as { allowedValue: unknown }).allowedValue]
      return [{ path: at, message: `must be ${String(allowed[0])}`, allowed }]
    }
    case 'not': {
      const description = (e.parentSchema as { description?: string } | undefined)?.description
      return [{ path: at, message: description ?? 'not allowed here' }]
    }
    default: {
      if (e.propertyName !== undefined) return [{ path: `${at}/${escapePointer(e.propertyName)}`, message: `invalid key: ${e.message ?? ''}` }]
      return [{ path: at, message: e.message ?? e.keyword }]
    }
  }
}

/** One entry per path: an enum's message (with its allowed values) wins over the type error beside it. */
function mergeByPath (errors: ValidationError[]): ValidationError[] {
  const byPath = new Map<string, ValidationError>()
  for (const e of errors) {
    const seen = byPath.get(e.path)
    if (seen === undefined) byPath.set(e.path, { ...e })
    else if (e.allowed !== undefined && seen.allowed === undefined) byPath.set(e.path, { ...e })
    else if (seen.allowed === undefined && !seen.message.split('; ').includes(e.message)) seen.message += `; ${e.message}`
  }
  // A field refused as a whole ("only allowed with …") needs no list of what is wrong inside it.
  const refused = [...byPath.values()].filter((e) => e.message.startsWith('only allowed with')).map((e) => e.path + '/')
  return [...byPath.values()].filter((e) => !refused.some((p) => e.path.startsWith(p)))
}

export type { Resource }
