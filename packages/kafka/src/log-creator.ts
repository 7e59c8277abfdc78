import { createRequire } from 'node:module'
import { logLevel, type logCreator, type LogEntry } from 'kafkajs'
import type { Logger } from 'pino'

// kafkajs' table of Kafka's error codes (not exported from its entry point).
const { errorCodes } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { errorCodes: Array<{ message: string, retriable: boolean }> }
/**
 * The messages of Kafka's retriable errors. kafkajs' Connection logs every error response at ERROR, also those it
 * retries (a group coordinator still loading when two workers start at once): those are warnings; an error that
 * is not retried reaches Flowgate's own code, which reports it with an FG_ERR_ code.
 */
const RETRIABLE = new Set(errorCodes.filter((e) => e.retriable).map((e) => e.message))

/** kafkajs' level for a pino logger: kafkajs is chatty at INFO, so it follows pino only from `warn` down. */
export function kafkajsLevel (logger: Logger): logLevel {
  switch (logger.level) {
    case 'trace': case 'debug': return logLevel.DEBUG
    case 'info': return logLevel.INFO
    case 'silent': return logLevel.NOTHING
    case 'fatal': case 'error': return logLevel.ERROR
    default: return logLevel.WARN
  }
}

// Fields kafkajs may attach that could carry credentials or huge buffers: never logged.
const DROP = new Set(['sasl', 'ssl', 'password', 'oauthBearerProvider', 'buffer', 'payload'])

/** A kafkajs logCreator writing structured lines to a pino child (`component: kafkajs`, `ns`: kafkajs' namespace). */
export function pinoLogCreator (logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' })
  return () => ({ namespace, level, log }: LogEntry) => {
    const { message, timestamp: _ts, logger: _logger, ...extra } = log as { message: string, timestamp?: string, logger?: string } & Record<string, unknown>
    for (const k of Object.keys(extra)) if (DROP.has(k)) delete extra[k]
    const fields = { ns: namespace, ...extra }
    const retried = level === logLevel.ERROR && namespace === 'Connection' && typeof extra.error === 'string' && RETRIABLE.has(extra.error)
    switch (retried ? logLevel.WARN : level) {
      case logLevel.ERROR: child.error(fields, message); break
      case logLevel.WARN: child.warn(fields, message); break
      case logLevel.INFO: child.info(fields, message); break
      default: child.debug(fields, message)
    }
  }
}
