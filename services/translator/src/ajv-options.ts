/**
 * The one set of ajv options, for the validators compiled at run time in Node (validators.ts) and for those compiled
 * ahead of time into the edge bundle (edge/precompile.ts): both must answer a bad body with the same errors.
 * allErrors: every offending path in one answer. No coercion: "1" is not 1 (fastify's default ajv would coerce).
 */
import type { Options } from 'ajv'

export const ajvOptions = {
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false
} as const satisfies Options
