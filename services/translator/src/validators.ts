/**
 * The route validators compiled at run time (Node): one ajv instance, one compiled validator per schema, shared by
 * the fastify routes (as their validator compiler) and the fetch handler. ajv compiles with `new Function`, which a
 * runtime that forbids code generation (Cloudflare Workers) refuses: the edge bundle swaps this module for validators
 * compiled ahead of time from the same schemas and options (edge/precompile.ts), with the same `routeValidator`.
 */
import { Ajv, type ValidateFunction } from 'ajv'
import { ajvOptions } from './ajv-options.js'
import { ROUTES, type Route } from './schemas.js'

const ajv = new Ajv(ajvOptions)
const bySchema = new Map<object, ValidateFunction>()

export function validatorFor (schema: object): ValidateFunction {
  let v = bySchema.get(schema)
  if (v === undefined) {
    v = ajv.compile(schema)
    bySchema.set(schema, v)
  }
  return v
}

export function routeValidator (route: Route): ValidateFunction {
  return validatorFor(ROUTES[route].schema)
}
