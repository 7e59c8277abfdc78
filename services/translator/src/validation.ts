/**
 * Validation of a translate body and one formatter from ajv's errors to `{path, message, allowed}`: both front doors
 * (fastify routes and fetch handler) answer a bad body with the same 400. The validators come from validators.ts
 * (compiled at run time in Node; compiled ahead of time in the edge bundle, which swaps that one module).
 */
import type { ErrorObject } from 'ajv'
import { BASE64_PATTERN } from '@flowgate/translate'
import type { FieldError } from './errors.js'
import type { Route } from './schemas.js'
import { routeValidator } from './validators.js'

export function validateBody (route: Route, body: unknown): FieldError[] | undefined {
  const v = routeValidator(route)
  return v(body) ? undefined : formatAjvErrors(v.errors ?? [])
}

function escapePointer (segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1')
}

/** ajv errors → one entry per JSON Pointer path, the enum's allowed values kept. */
export function formatAjvErrors (errors: readonly ErrorObject[]): FieldError[] {
  const byPath = new Map<string, FieldError>()
  for (const e of errors) {
    const at = e.instancePath
    let out: FieldError
    switch (e.keyword) {
      case 'additionalProperties': {
        const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {})
        const name = String((e.params as { additionalProperty: string }).additionalProperty)
        out = { path: `${at}/${escapePointer(name)}`, message: 'unknown field', ...(known.length > 0 ? { allowed: known } : {}) }
        break
      }
      case 'required':
        out = { path: `${at}/${escapePointer(String((e.params as { missingProperty: string }).missingProperty))}`, message: 'required' }
        break
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues
        out = { path: at, message: `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, allowed }
        break
      }
      case 'pattern':
        out = { path: at, message: (e.params as { pattern?: string }).pattern === BASE64_PATTERN ? 'must be base64 (RFC 4648, padded)' : (e.message ?? 'bad format') }
        break
      default:
        out = { path: at, message: e.message ?? e.keyword }
    }
    const seen = byPath.get(out.path)
    if (seen === undefined) byPath.set(out.path, out)
    else if (out.allowed !== undefined && seen.allowed === undefined) byPath.set(out.path, out)
    else if (seen.allowed === undefined && !seen.message.split('; ').includes(out.message)) seen.message += `; ${out.message}`
  }
  return [...byPath.values()]
}
