/**
 * The translate routes as a fastify plugin (encapsulated: its validator compiler and error handler stay inside), so
 * the standalone service and the all-in-one gateway mount the same thing. Validation is fastify's (the routes'
 * schemas), compiled by the shared ajv instance; errors come out in the same shape as the fetch handler's.
 */
import type { FastifyError, FastifyInstance } from 'fastify'
import {
  FG_ERR_TRANSLATOR_BAD_JSON, FG_ERR_TRANSLATOR_BODY_TOO_LARGE, FG_ERR_TRANSLATOR_INTERNAL,
  FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE, FG_ERR_TRANSLATOR_VALIDATION, TranslatorError
} from './errors.js'
import { translatorDefaults, type HandlerOptions } from './options.js'
import { ROUTES, type Route } from './schemas.js'
import { checkMessageCount, translateValidated } from './translate-request.js'
import { formatAjvErrors } from './validation.js'
import { validatorFor } from './validators.js'

export async function translatorRoutes (app: FastifyInstance, opts: Partial<HandlerOptions>): Promise<void> {
  const options: HandlerOptions = { bodyLimit: opts.bodyLimit ?? translatorDefaults.bodyLimit, maxMessages: opts.maxMessages ?? translatorDefaults.maxMessages, ...(opts.randomUUID !== undefined ? { randomUUID: opts.randomUUID } : {}) }
  app.setValidatorCompiler(({ schema }) => validatorFor(schema))
  // JSON only, as the fetch handler: fastify's default text/plain parser would turn a text body into a 400, not a 415.
  app.removeContentTypeParser('text/plain')
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const e = toTranslatorError(err, options)
    if (e.statusCode >= 500) request.log.error({ err }, 'translate request failed')
    return reply.code(e.statusCode).send(e.toBody())
  })
  for (const [route, { path, schema }] of Object.entries(ROUTES) as Array<[Route, { path: string, schema: object }]>) {
    app.post(path, {
      bodyLimit: options.bodyLimit,
      schema: { body: schema },
      // Before validation, as in the fetch handler: a huge batch is refused without validating all of it.
      preValidation: async (request) => { checkMessageCount(request.body, options) }
    }, async (request) => translateValidated(route, request.body, options))
  }
}

function toTranslatorError (err: FastifyError, options: HandlerOptions): TranslatorError {
  if (err instanceof TranslatorError) return err
  if (err.validation !== undefined) return FG_ERR_TRANSLATOR_VALIDATION(formatAjvErrors(err.validation as Parameters<typeof formatAjvErrors>[0]))
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return FG_ERR_TRANSLATOR_BODY_TOO_LARGE(options.bodyLimit)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE('')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return FG_ERR_TRANSLATOR_BAD_JSON('the body is empty')
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return FG_ERR_TRANSLATOR_BAD_JSON(err.message)
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) return FG_ERR_TRANSLATOR_BAD_JSON(err.message)
  return FG_ERR_TRANSLATOR_INTERNAL()
}
