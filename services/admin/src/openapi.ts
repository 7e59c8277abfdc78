import { KINDS, schemas } from '@flowgate/resources'
import { BODY_CONTENT_TYPES } from './body.js'
import type { RouteDef } from './routes.js'

/**
 * The OpenAPI 3.1 document, built from the route table and the resource schemas (the same objects that validate):
 * each `{kind}` route is written out once per kind so every path a client can call is listed.
 */
export function openApiDocument (routes: RouteDef[], prefix: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  const ref = (kind: string): object => ({ $ref: `#/components/schemas/${kind}` })
  const errorResponse = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
  for (const route of routes) {
    const kinds = route.url.includes(':kind') ? KINDS.filter((k) => route.kinds === undefined || route.kinds.includes(k.kind)) : [undefined]
    for (const k of kinds) {
      const url = prefix + route.url.replace(':kind', k?.plural ?? '').replace(/:(\w+)/g, '{$1}')
      const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!).filter((p) => p !== 'kind')
      const schema = route.answer === 'apply'
        ? { $ref: '#/components/schemas/ApplyResult' }
        : k === undefined ? {} : route.answer === 'list' ? { type: 'object', properties: { items: { type: 'array', items: ref(k.kind) } } } : ref(k.kind)
      const body = route.body === undefined
        ? undefined
        : { required: true, content: Object.fromEntries(BODY_CONTENT_TYPES.map((t) => [t, { schema: route.body === 'resource' && k !== undefined ? ref(k.kind) : route.body === 'status' ? { type: 'object' } : {} }])) }
      paths[url] ??= {}
      paths[url]![route.method.toLowerCase()] = {
        summary: k === undefined ? route.summary : `${route.summary} (${k.kind})`,
        operationId: `${route.id}${k?.kind ?? ''}`,
        security: [{ bearer: [] }],
        parameters: params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
        ...(body !== undefined ? { requestBody: body } : {}),
        responses: {
          200: { description: 'OK', content: { 'application/json': { schema } } },
          ...Object.fromEntries(route.statuses.map((s) => [String(s), s === 201 ? { description: 'Created', content: { 'application/json': { schema } } } : { description: statusText[s] ?? 'Error', ...errorResponse }]))
        }
      }
    }
  }
  for (const probe of ['/healthz', '/readyz']) {
    paths[probe] = { get: { summary: 'Probe (no token)', security: [], responses: { 200: { description: 'OK' }, 503: { description: 'Not ready' } } } }
  }
  paths['/openapi.json'] = { get: { summary: 'This document (no token)', security: [], responses: { 200: { description: 'OK' } } } }
  const components = Object.fromEntries(Object.entries(schemas).map(([kind, s]) => {
    const { $id: _id, ...rest } = s as Record<string, unknown>
    return [kind, rest]
  }))
  return {
    openapi: '3.1.0',
    info: { title: 'Flowgate admin API', version: '1' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...components,
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' }, allowed: { type: 'array' }, document: { type: 'integer' }, line: { type: 'integer' } } } }
          }
        },
        ApplyResult: {
          type: 'object',
          properties: {
            results: {
              type: 'array',
              items: { type: 'object', properties: { kind: { type: 'string' }, namespace: { type: 'string' }, name: { type: 'string' }, result: { enum: ['created', 'configured', 'unchanged'] }, resourceVersion: { type: 'string' } } }
            }
          }
        }
      }
    },
    security: [{ bearer: [] }]
  }
}

const statusText: Record<number, string> = {
  400: 'Invalid resource (FG_ERR_VALIDATION: every offending path with allowed values)',
  401: 'Missing or wrong bearer token',
  404: 'Unknown kind or resource',
  409: 'resourceVersion conflict, or still referred to',
  422: 'Dangling reference (FG_ERR_DANGLING_REFERENCE), or two dataflows that feed each other (FG_ERR_TOPIC_LOOP)'
}
