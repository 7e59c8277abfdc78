import { pino, type Logger } from 'pino'
import { serviceHttpApp, listeningPort, probes } from '@flowgate/service-kit'
import { FG_ERR_TRANSLATOR_NOT_FOUND } from './errors.js'
import { translatorDefaults, type TranslatorOptions } from './options.js'
import { translatorRoutes } from './routes.js'

export interface Translator {
  readonly host: string
  readonly port: number
  close: () => Promise<void>
}

/** Starts the stateless translator service on its own (what `flowgate translator` runs). */
export async function startTranslator (opts: Partial<TranslatorOptions> & { logger?: Logger, randomUUID?: () => string } = {}): Promise<Translator> {
  const options: TranslatorOptions = { ...translatorDefaults, ...stripUndefined(opts) }
  const log = opts.logger ?? pino({ base: { service: 'translator' } })
  const app = serviceHttpApp(log, { bodyLimit: options.bodyLimit })
  // Stateless: alive is ready, so /healthz only.
  await app.register(probes, {})
  app.setNotFoundHandler(async (request, reply) => {
    const e = FG_ERR_TRANSLATOR_NOT_FOUND(request.method, request.url.split('?')[0] ?? '')
    return reply.code(e.statusCode).send(e.toBody())
  })
  await app.register(translatorRoutes, { bodyLimit: options.bodyLimit, maxMessages: options.maxMessages, ...(opts.randomUUID !== undefined ? { randomUUID: opts.randomUUID } : {}) })
  try {
    await app.listen({ host: options.host, port: options.port })
  } catch (err) {
    await app.close()
    throw err
  }
  const port = listeningPort(app)
  log.info({ url: `http://${options.host}:${port}` }, `translator listening on ${options.host}:${port}`)
  let closing: Promise<void> | undefined
  return {
    host: options.host,
    port,
    close () {
      closing ??= app.close()
      return closing
    }
  }
}

function stripUndefined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'logger' && k !== 'randomUUID')) as Partial<T>
}
