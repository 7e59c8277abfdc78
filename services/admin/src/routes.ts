import type { FastifyReply, FastifyRequest } from 'fastify'
import { KINDS, kindByPlural, type KindInfo } from '@flowgate/resources'
import { parseBody } from './body.js'
import { FG_ERR_BODY, FG_ERR_NOT_FOUND, FG_ERR_UNKNOWN_KIND } from './errors.js'
import { applyResources, deleteResource, putResource, type AdminContext } from './resources.js'
import { readView } from './view.js'

/**
 * The REST API of DESIGN §3 as one table: the plugin registers these routes and openapi.ts documents the same
 * table, so the two cannot drift. `{kind}` is the lower-case plural.
 */
export interface RouteDef {
  method: 'GET' | 'PUT' | 'DELETE' | 'POST'
  /** Relative to /api/v1, fastify style (`:kind`). */
  url: string
  summary: string
  /** OpenAPI operationId stem, Kubernetes style: `listNamespaced` + `Dataflow`. */
  id: string
  /** Which kind schema the body or answer is: `kind` (per path), `list`, `apply`, or none. */
  body?: 'resource' | 'manifests' | 'status'
  answer: 'resource' | 'list' | 'apply'
  /** Statuses besides 200 this route answers with. */
  statuses: number[]
  /** A `{kind}` route that only some kinds have (documented for those alone); every kind when absent. */
  kinds?: string[]
  handler: (ctx: AdminContext, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>
}

type Params = { kind: string, namespace?: string, name?: string }

/** The kinds the runtime reports on (DESIGN §3: dataflows carry status; endpoints too, from the dataflows using them). */
const STATUS_KINDS = ['Dataflow', 'DataflowEndpoint']
const pluralOf = (kind: string): string => KINDS.find((k) => k.kind === kind)?.plural ?? kind

function kindOf (req: FastifyRequest): KindInfo {
  const { kind } = req.params as Params
  const info = kindByPlural(kind)
  if (info === undefined) throw FG_ERR_UNKNOWN_KIND(kind, KINDS.map((k) => k.plural))
  return info
}

async function list (ctx: AdminContext, info: KindInfo, namespace?: string): Promise<unknown> {
  const { items, resourceVersion } = await ctx.store.list({ kind: info.kind, ...(namespace !== undefined ? { namespace } : {}) })
  return { apiVersion: 'v1', kind: `${info.kind}List`, metadata: { resourceVersion }, items: items.map((r) => readView(r, ctx.cipher)) }
}

export const routes: RouteDef[] = [
  {
    method: 'GET',
    url: '/:kind',
    id: 'list',
    summary: 'List across namespaces',
    answer: 'list',
    statuses: [401, 404],
    handler: async (ctx, req) => await list(ctx, kindOf(req))
  },
  {
    method: 'GET',
    url: '/namespaces/:namespace/:kind',
    id: 'listNamespaced',
    summary: 'List one namespace',
    answer: 'list',
    statuses: [401, 404],
    handler: async (ctx, req) => await list(ctx, kindOf(req), (req.params as Params).namespace)
  },
  {
    method: 'GET',
    url: '/namespaces/:namespace/:kind/:name',
    id: 'read',
    summary: 'Read one; dataflows and endpoints carry status, secrets their keys only',
    answer: 'resource',
    statuses: [401, 404],
    handler: async (ctx, req) => {
      const info = kindOf(req)
      const { namespace, name } = req.params as Required<Params>
      const r = await ctx.store.get({ kind: info.kind, namespace, name })
      if (r === undefined) throw FG_ERR_NOT_FOUND(info.kind, namespace, name)
      return readView(r, ctx.cipher)
    }
  },
  {
    method: 'PUT',
    url: '/namespaces/:namespace/:kind/:name',
    id: 'replace',
    summary: 'Create (201) or replace (200); metadata.resourceVersion in the body makes it conditional (409)',
    body: 'resource',
    answer: 'resource',
    statuses: [201, 400, 401, 404, 409, 422],
    handler: async (ctx, req, reply) => {
      const info = kindOf(req)
      const { namespace, name } = req.params as Required<Params>
      const docs = parseBody(req.body)
      if (docs.length !== 1) throw FG_ERR_BODY(`PUT takes one resource, the body holds ${docs.length}: use POST /api/v1/apply for several`)
      const { created, resource } = await putResource(ctx, info, namespace, name, docs[0]!.value)
      reply.code(created ? 201 : 200)
      return readView(resource, ctx.cipher)
    }
  },
  {
    method: 'PUT',
    url: '/namespaces/:namespace/:kind/:name/status',
    id: 'replaceStatus',
    summary: 'Write the runtime status of a dataflow or endpoint (a split egress reading resources through this API reports here); `?writer=` names its part among several',
    body: 'status',
    answer: 'resource',
    statuses: [400, 401, 404],
    kinds: STATUS_KINDS,
    handler: async (ctx, req) => {
      const info = kindOf(req)
      const { namespace, name } = req.params as Required<Params>
      if (!STATUS_KINDS.includes(info.kind)) throw FG_ERR_BODY(`${info.plural} carry no status: only ${STATUS_KINDS.map((k) => pluralOf(k)).join(' and ')} do`)
      const docs = parseBody(req.body)
      const status = docs[0]?.value
      if (docs.length !== 1 || status === null || typeof status !== 'object' || Array.isArray(status)) throw FG_ERR_BODY('the body must be one status object, e.g. {"conditions":[…]}')
      const writer = (req.query as { writer?: unknown }).writer
      if (writer !== undefined && (typeof writer !== 'string' || !/^[\w.-]{1,63}$/.test(writer))) throw FG_ERR_BODY('writer must be 1–63 letters, digits, ".", "-" or "_"')
      const key = { kind: info.kind, namespace, name }
      if (await ctx.store.get(key) === undefined) throw FG_ERR_NOT_FOUND(info.kind, namespace, name)
      await ctx.store.setStatus(key, status, writer !== undefined ? { writer } : undefined)
      const written = await ctx.store.get(key)
      if (written === undefined) throw FG_ERR_NOT_FOUND(info.kind, namespace, name)
      return readView(written, ctx.cipher)
    }
  },
  {
    method: 'DELETE',
    url: '/namespaces/:namespace/:kind/:name',
    id: 'delete',
    summary: 'Delete; 409 while another resource refers to it',
    answer: 'resource',
    statuses: [401, 404, 409],
    handler: async (ctx, req) => {
      const info = kindOf(req)
      const { namespace, name } = req.params as Required<Params>
      return readView(await deleteResource(ctx, info, namespace, name), ctx.cipher)
    }
  },
  {
    method: 'POST',
    url: '/apply',
    id: 'apply',
    summary: 'Apply a list or multi-document YAML in dependency order, all or nothing, with a result per resource',
    body: 'manifests',
    answer: 'apply',
    statuses: [400, 401, 409, 422],
    handler: async (ctx, req) => ({ results: await applyResources(ctx, parseBody(req.body)) })
  }
]
