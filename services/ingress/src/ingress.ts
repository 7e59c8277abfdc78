import { createServer, type Server, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { Aedes, type AedesOptions } from 'aedes'
import { interceptorHooks, type PublishInterceptor } from './interceptor.js'
import type { Logger } from 'pino'
import { ingressDefaults, type IngressOptions } from './options.js'
import { FG_ERR_INGRESS_OPEN_BIND, FG_ERR_INGRESS_PORT_IN_USE } from './errors.js'
import { isLoopbackHost } from './loopback.js'

export interface Ingress {
  readonly broker: Aedes
  /** Sets the one interceptor that sees device publishes (the egress runtime in the all-in-one gateway). */
  setInterceptor: (interceptor: PublishInterceptor | undefined) => void
  /** The address the MQTT listener is bound to. */
  readonly mqtt: { host: string, port: number }
  close: () => Promise<void>
}

/** Starts the embedded aedes broker (MQTT 3.1.1 and 5) on a TCP listener. */
export async function startIngress (opts: Partial<IngressOptions> & { logger: Logger }): Promise<Ingress> {
  const options = { ...ingressDefaults, ...opts }
  const log = opts.logger
  if (!isLoopbackHost(options.host) && !options.deviceAuthentication) throw FG_ERR_INGRESS_OPEN_BIND(options.host)

  let interceptor: PublishInterceptor | undefined
  const allowAll: NonNullable<AedesOptions['authorizePublish']> = (_client, _packet, callback) => callback(null)
  const broker = await Aedes.createBroker({ ...interceptorHooks(() => interceptor, allowAll) })
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'))
  broker.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'))

  const server: Server = createServer(broker.handle)
  server.listen(options.mqttPort, options.host)
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err })])
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw FG_ERR_INGRESS_PORT_IN_USE(options.host, options.mqttPort)
    throw err
  }
  const address = server.address() as AddressInfo

  return {
    broker,
    setInterceptor (next) { interceptor = next },
    mqtt: { host: options.host, port: address.port },
    async close () {
      // Stop accepting first, then let aedes end its clients so they see a clean disconnect.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await closed
    }
  }
}
