import type { FastifyError, FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { bearerCheck } from './auth.js'
import { AdminError, FG_ERR_ROUTE_NOT_FOUND } from './errors.js'
import { openApiDocument } from './openapi.js'
import { adminDefaults } from './options.js'
import type { AdminContext } from './resources.js'
import { routes } from './routes.js'
import type { SecretCipher } from './secrets.js'
import type { Store } from '@flowgate/store'
import { createTailHub, tailRoute, type TailHub } from './tail/index.js'
import { uiPlugin } from './ui-plugin.js'

export interface AdminPluginOptions {
  store: Store
  token: string
  cipher: SecretCipher
  logger?: Logger
  /** The live tail's hub (the gateway shares it with the egress runtime); without one the tail has no source. */
  tail?: TailHub
  /** Serve the web UI at `/` (default true). */
  ui?: boolean
}

export const API_PREFIX = '/api/v1'

/**
 * The admin REST API (DESIGN §3) as a fastify plugin. Request bodies are never logged: they carry Secret values.
 */
export async function adminPlugin (app: FastifyInstance, opts: AdminPluginOptions): Promise<void> {
  const ctx: AdminContext = { store: opts.store, cipher: opts.cipher }
  const log = opts.logger
  const document = openApiDocument(routes, API_PREFIX)

  app.get('/openapi.json', async () => document)

  // The tail authenticates itself (a browser's WebSocket cannot send the bearer header), so it sits outside the
  // bearer hook's scope.
  await app.register(tailRoute, { hub: opts.tail ?? createTailHub(), token: opts.token, basePath: API_PREFIX, ...(log ? { logger: log } : {}) })
  if (opts.ui !== false) await app.register(uiPlugin)

  await app.register(async (api) => {
    // One text parser for every content type: JSON is YAML, and parseBody gives both the same line:col errors.
    api.removeAllContentTypeParsers()
    api.addContentTypeParser('*', { parseAs: 'string', bodyLimit: adminDefaults.bodyLimit }, (_req, body, done) => done(null, body))
    api.addHook('onRequest', bearerCheck(opts.token))
    api.setErrorHandler((err: FastifyError | AdminError, req, reply) => {
      if (err instanceof AdminError) return reply.code(err.statusCode).send(err.toJSON())
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
      if (status === 500) {
        // The error only: never the request body, which may hold Secret values.
        log?.error({ err: { message: err.message, code: err.code, stack: err.stack }, method: req.method, url: req.url }, 'admin request failed')
        return reply.code(500).send({ code: 'FG_ERR_INTERNAL', message: 'internal error' })
      }
      return reply.code(status).send({ code: err.code ?? 'FG_ERR_BAD_REQUEST', message: err.message })
    })
    api.setNotFoundHandler(async (req, reply) => reply.code(404).send(FG_ERR_ROUTE_NOT_FOUND(req.method, req.url).toJSON()))
    for (const route of routes) {
      api.route({ method: route.method, url: route.url, handler: async (req, reply) => await route.handler(ctx, req, reply) })
    }
  }, { prefix: API_PREFIX })
}
