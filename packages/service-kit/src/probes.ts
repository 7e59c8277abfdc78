import type { FastifyInstance } from 'fastify'

/** A prom-client registry as far as /metrics needs it. */
export interface MetricsRegistry {
  readonly contentType: string
  metrics: () => Promise<string>
}

export interface ProbesOptions {
  /**
   * The body of a 200 from /readyz, or undefined while starting (503 `{ status: 'starting' }`). Without it the
   * service has no /readyz (a stateless one is ready when it listens).
   */
  ready?: () => Record<string, unknown> | undefined
  /** Served on /metrics in the Prometheus text format; without it, no /metrics. */
  metrics?: MetricsRegistry
}

/**
 * A service's probes as a fastify plugin: GET /healthz (alive: 200 `{ status: 'ok' }`), /readyz and /metrics
 * (DESIGN §3: open, no token). Every service mounts this one, so a probe means the same on each of them.
 */
export async function probes (app: FastifyInstance, opts: ProbesOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))
  const ready = opts.ready
  if (ready !== undefined) {
    app.get('/readyz', async (_req, reply) => {
      const body = ready()
      return body !== undefined ? body : reply.code(503).send({ status: 'starting' })
    })
  }
  const metrics = opts.metrics
  if (metrics !== undefined) {
    app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()))
  }
}
