import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import type { AddressInfo } from 'node:net'
import { startIngress, type Ingress } from '@flowgate/ingress'
import { gatewayDefaults, type GatewayOptions } from './options.js'

export interface Gateway {
  readonly http: { host: string, port: number }
  readonly mqtt: { host: string, port: number }
  readonly log: Logger
  close: () => Promise<void>
}

/** Starts admin, ingress, translator and egress in one process: what `flowgate start` runs. */
export async function startGateway (opts: Partial<GatewayOptions> & { logger?: Logger } = {}): Promise<Gateway> {
  const options: GatewayOptions = { ...gatewayDefaults, ...stripUndefined(opts) }
  const log = opts.logger ?? pino({ level: options.logLevel, base: { service: 'gateway' } })

  const ingress: Ingress = await startIngress({ host: options.host, mqttPort: options.mqttPort, logger: log.child({ component: 'ingress' }) })
  const app: FastifyInstance = Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    // Probes hit /healthz every few seconds; a line per request would drown the dataflow logs.
    logController: new LogController({ disableRequestLogging: true })
  })
  let ready = false
  try {
    app.get('/healthz', async () => ({ status: 'ok' }))
    app.get('/readyz', async (_req, reply) => {
      if (!ready) return reply.code(503).send({ status: 'starting' })
      return { status: 'ready' }
    })
    await app.listen({ host: options.host, port: options.httpPort })
    ready = true
  } catch (err) {
    await app.close()
    await ingress.close()
    throw err
  }
  const address = app.server.address() as AddressInfo
  const http = { host: options.host, port: address.port }
  log.info({ mqtt: `mqtt://${ingress.mqtt.host}:${ingress.mqtt.port}`, http: `http://${http.host}:${http.port}` },
    `flowgate listening: MQTT on ${ingress.mqtt.host}:${ingress.mqtt.port}, HTTP on ${http.host}:${http.port}`)

  let closing: Promise<void> | undefined
  return {
    http,
    mqtt: ingress.mqtt,
    log,
    close () {
      closing ??= (async () => {
        await app.close()
        await ingress.close()
      })()
      return closing
    }
  }
}

function stripUndefined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
