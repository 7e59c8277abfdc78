/**
 * The route validators compiled ahead of time (ajv's standalone code, an ES module): what the edge bundle uses in
 * place of src/validators.ts, because Workers refuse `new Function`. Same schemas (src/schemas.ts), same options
 * (src/ajv-options.ts), same `routeValidator(route)`; the edge tests check the answers against Node's.
 */
import { Ajv } from 'ajv'
import standalone from 'ajv/dist/standalone/index.js'
import { ajvOptions } from '../src/ajv-options.js'
import { ROUTES, type Route } from '../src/schemas.js'

/** The source of an ES module exporting `routeValidator(route)`, with no code generation at run time. */
export function precompiledValidatorsSource (): string {
  const routes = Object.entries(ROUTES) as Array<[Route, { path: string, schema: object }]>
  const ajv = new Ajv({ ...ajvOptions, code: { source: true, esm: true }, schemas: routes.map(([, r]) => r.schema) })
  const names = routes.map(([route], i) => [route, `route${i}`] as const)
  const ids = Object.fromEntries(routes.map(([, r], i) => [`route${i}`, (r.schema as { $id: string }).$id]))
  const code = standalone.default(ajv, ids)
  return `${code}\nconst byRoute = { ${names.map(([route, name]) => `${JSON.stringify(route)}: ${name}`).join(', ')} }\n` +
    'export function routeValidator (route) { return byRoute[route] }\n'
}
