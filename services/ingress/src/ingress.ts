import type { TLSSocket } from 'node:tls'
import { Aedes, type AedesOptions, type Client } from 'aedes'
import type { Logger } from 'pino'
import { ingressDefaults, type IngressOptions } from './options.js'
import { FG_ERR_INGRESS_OPEN_BIND, FG_ERR_INGRESS_PORT_IN_USE } from './errors.js'
import { isLoopbackHost } from './loopback.js'
import { interceptorHooks, type PublishInterceptor } from './interceptor.js'
import { permits, type DevicePermissions } from './device-auth.js'
import { tcpListener, tlsListener, wsListener, type Listener } from './listeners.js'
import { createSharedSubscriptions, type SharedSubscriptions } from './shared-subscriptions.js'
import { createSessionPersistence } from './persistence.js'

export interface Ingress {
  readonly broker: Aedes
  /** Sets the one interceptor that sees device publishes (the egress runtime in the all-in-one gateway). */
  setInterceptor: (interceptor: PublishInterceptor | undefined) => void
  /** The plain MQTT listener's address. */
  readonly mqtt: { host: string, port: number }
  readonly listeners: ReadonlyArray<Omit<Listener, 'close'>>
  /** MQTT 5 shared subscriptions (`$share/{group}/{filter}`): how several egress instances split a dataflow. */
  readonly shared: SharedSubscriptions
  close: () => Promise<void>
}

const BAD_USERNAME_OR_PASSWORD = 4

/** Starts the embedded aedes broker (MQTT 3.1.1 and 5) on TCP, and TLS and WebSocket when asked. */
export async function startIngress (opts: Partial<IngressOptions> & { logger: Logger }): Promise<Ingress> {
  const options: IngressOptions = { ...ingressDefaults, ...opts }
  const log = opts.logger
  const auth = options.deviceAuth
  if (!isLoopbackHost(options.host) && auth === undefined) throw FG_ERR_INGRESS_OPEN_BIND(options.host)

  let interceptor: PublishInterceptor | undefined
  // Permissions found at CONNECT, per client, for the authorize hooks that follow.
  const permissions = new WeakMap<Client, DevicePermissions>()
  const authorizePublish: NonNullable<AedesOptions['authorizePublish']> = (client, packet, callback) => {
    const p = client ? permissions.get(client) : undefined
    if (p && !permits(p, 'publish', packet.topic)) return callback(new Error(`not authorized to publish to ${packet.topic}`))
    callback(null)
  }
  const shared = createSharedSubscriptions()
  const sharedInterceptor: PublishInterceptor | undefined = options.ackAfterSharedDelivery
    ? ({ packet }, ack) => {
        const delivered = packet.qos === 1 ? shared.awaitDelivery(packet.topic, packet.payload as Buffer) : undefined
        if (delivered === undefined) return false
        void delivered.then((outcome) => ack.settle(outcome))
        return true
      }
    : undefined
  const hooks: AedesOptions = {
    ...interceptorHooks(() => interceptor ?? sharedInterceptor, authorizePublish),
    sharedSubscriptions: shared.handler,
    persistence: createSessionPersistence().persistence
  }
  if (auth) {
    hooks.authenticate = (client, username, password, done) => {
      const cert = (client.conn as Partial<TLSSocket>).getPeerCertificate?.()
      const certificateCn = cert && (client.conn as TLSSocket).authorized ? String(cert.subject?.CN ?? '') || undefined : undefined
      auth.authenticate({ clientId: client.id, username, password, certificateCn }).then((result) => {
        if (result === null) {
          log.info({ clientId: client.id, username }, 'device authentication refused')
          const err = Object.assign(new Error('bad user name or password'), { returnCode: BAD_USERNAME_OR_PASSWORD })
          return done(err, false)
        }
        permissions.set(client, result.permissions)
        done(null, true)
      }, (err: Error) => {
        log.error({ err: err.message }, 'device authentication failed')
        done(Object.assign(err, { returnCode: 3 }), false)
      })
    }
    hooks.authorizeSubscribe = (client, subscription, callback) => {
      const p = permissions.get(client)
      // A null subscription is refused in the SUBACK (0x80 / 0x87) while the connection stays up; an error would close it.
      if (p && !permits(p, 'subscribe', subscription.topic)) return callback(null, null)
      callback(null, subscription)
    }
  }

  const broker = await Aedes.createBroker(hooks)
  shared.attach(broker)
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'))
  broker.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'))

  const listeners: Listener[] = []
  const closeListeners = async (): Promise<void> => { for (const l of listeners.splice(0)) await l.close() }
  try {
    listeners.push(await bind(() => tcpListener(broker, options.host, options.mqttPort), options.host, options.mqttPort))
    if (options.tls) { const tls = options.tls; listeners.push(await bind(() => tlsListener(broker, options.host, tls.port, tls), options.host, tls.port)) }
    if (options.wsPort !== undefined) { const port = options.wsPort; listeners.push(await bind(() => wsListener(broker, options.host, port), options.host, port)) }
  } catch (err) {
    await closeListeners()
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    throw err
  }
  const tcp = listeners[0]!

  return {
    broker,
    setInterceptor (next) { interceptor = next },
    mqtt: { host: tcp.host, port: tcp.port },
    listeners: listeners.map(({ kind, host, port }) => ({ kind, host, port })),
    shared,
    async close () {
      // Stop accepting, then let aedes end its clients so they see a clean disconnect.
      const closing = closeListeners()
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await closing
    }
  }
}

async function bind (start: () => Promise<Listener>, host: string, port: number): Promise<Listener> {
  try {
    return await start()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw FG_ERR_INGRESS_PORT_IN_USE(host, port)
    throw err
  }
}
