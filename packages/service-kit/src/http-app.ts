import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

export interface ServiceHttpAppOptions {
  /** Largest request body in bytes (fastify's default, 1 MiB, when absent). */
  bodyLimit?: number
}

/**
 * A service's fastify app, logging through the service's logger as `component: http`. Requests are not logged one
 * by one: probes hit /healthz every few seconds and the egress calls the translator once per batch, so a line per
 * request would drown the service's own logs and say nothing the metrics don't.
 */
export function serviceHttpApp (log: Logger, opts: ServiceHttpAppOptions = {}): FastifyInstance {
  return Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {})
  })
}

/** The port the app listens on (the one asked for, or the one the system chose for port 0). */
export function listeningPort (app: FastifyInstance): number {
  return (app.server.address() as { port: number }).port
}
