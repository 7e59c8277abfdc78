import type { TLSSocket } from 'node:tls'
import { Aedes, type AedesOptions, type Client } from 'aedes'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import { ingressDefaults, type IngressOptions } from './options.js'
import { FG_ERR_INGRESS_OPEN_BIND, FG_ERR_INGRESS_SHARED_EMITTER, FG_ERR_INGRESS_PORT_IN_USE } from './errors.js'
import { isLoopbackHost } from './loopback.js'
import { interceptorHooks, type PublishInterceptor } from './interceptor.js'
import { permits, type DevicePermissions } from './device-auth.js'
import { tcpListener, tlsListener, wsListener, type Handle, type Listener } from './listeners.js'
import type { Duplex } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import { createSharedSubscriptions, type SharedSubscriptions } from './shared-subscriptions.js'
import { createSessionPersistence } from './persistence.js'
import { redisEmitter } from './shared-emitter.js'
import { createAccessHooks } from './access/sessions.js'
import { createAccessMetrics, registerSharedSubscriptionMetrics } from './access/metrics.js'
import { brokerLimitDefaults, RECEIVE_MAXIMUM_EXCEEDED, type BrokerLimits } from './access/limits.js'
import { startFrontDoor, type FrontDoor } from './access/front-door.js'
import type { AccessSource } from './access/source.js'

export interface Ingress {
  readonly broker: Aedes
  /** Sets the one interceptor that sees device publishes (the egress runtime in the all-in-one gateway). */
  setInterceptor: (interceptor: PublishInterceptor | undefined) => void
  /**
   * Shutting down: from now on no publish is acknowledged or handed on — each stays unacknowledged, and the device
   * resends it to the next process. Called before the dataflows drain, so nothing arrives after they stopped.
   */
  holdPublishes: () => void
  /** With `holdConnections`: lets the devices that connected meanwhile (and all later ones) in. */
  open: () => void
  /** The plain MQTT listener's address. */
  readonly mqtt: { host: string, port: number }
  readonly listeners: ReadonlyArray<Omit<Listener, 'close'>>
  /** MQTT 5 shared subscriptions (`$share/{group}/{filter}`): how several egress instances split a dataflow. */
  readonly shared: SharedSubscriptions
  /** The broker's Prometheus counters (`metricsRegistry`, or one of its own). */
  readonly metricsRegistry: Registry
  /** BrokerListener ports, when the ingress follows stored resources (`access`). */
  readonly frontDoor: FrontDoor | undefined
  /** Starts serving the BrokerListeners of `source` (once; later calls return the same front door). */
  openFrontDoor: (source: AccessSource) => FrontDoor
  readonly limits: Readonly<BrokerLimits>
  /** Devices may connect without authentication off loopback (`--allow-anonymous`). */
  readonly anonymousOffLoopback: boolean
  close: () => Promise<void>
}

const BAD_USERNAME_OR_PASSWORD = 4
/** Takes every publish and never settles it: no acknowledgement for what will not reach Kafka. */
const holdForever: PublishInterceptor = () => true

/** Starts the embedded aedes broker (MQTT 3.1.1 and 5) on TCP, and TLS and WebSocket when asked. */
export async function startIngress (opts: Partial<IngressOptions> & { logger: Logger }): Promise<Ingress> {
  const options: IngressOptions = { ...ingressDefaults, ...opts }
  const log = opts.logger
  const auth = options.deviceAuth
  const allowAnonymous = options.allowAnonymous === true
  const anonymousOffLoopback = allowAnonymous && !isLoopbackHost(options.host) && auth === undefined
  if (!isLoopbackHost(options.host) && auth === undefined && !allowAnonymous) throw FG_ERR_INGRESS_OPEN_BIND(options.host)
  if (anonymousOffLoopback) log.warn({ host: options.host }, `--allow-anonymous: devices connect to ${options.host}:${options.mqttPort} without authentication; anyone who can reach the port may publish and subscribe to every topic`)
  const limits: BrokerLimits = { ...brokerLimitDefaults, ...options.limits }
  // The broker's counters (its own registry unless given one): `flowgate ingress` serves them on /metrics.
  const metricsRegistry = options.metricsRegistry ?? new Registry()
  const metrics = createAccessMetrics(metricsRegistry)

  let interceptor: PublishInterceptor | undefined
  let holding = false
  let broker: Aedes | undefined
  const access = createAccessHooks({ log, limits, metrics, connectedClients: () => broker?.connectedClients ?? 0 })
  // Permissions found at CONNECT on the built-in listener (the `deviceAuth` option), for the authorize hooks.
  const permissions = new WeakMap<Client, DevicePermissions>()
  const authorizePublish: NonNullable<AedesOptions['authorizePublish']> = (client, packet, callback) => {
    if (client !== null) {
      const verdict = access.mayPublish(client, packet.topic)
      if (verdict === false) return callback(new Error(`not authorized to publish to ${packet.topic}`))
      const p = verdict === undefined ? permissions.get(client) : undefined
      if (p && !permits(p, 'publish', packet.topic)) return callback(new Error(`not authorized to publish to ${packet.topic}`))
    }
    callback(null)
  }
  const shared = createSharedSubscriptions({
    ...options.sharedSubscriptions,
    // Only the split deployment waits for its egress subscriptions after a start.
    ...(options.ackAfterSharedDelivery !== true ? { egressGraceMs: 0 } : {})
  }, { registry: metricsRegistry })
  registerSharedSubscriptionMetrics(metricsRegistry, shared)
  const sharedInterceptor: PublishInterceptor | undefined = options.ackAfterSharedDelivery
    ? ({ packet, protocolVersion, clientId }, ack) => {
        const delivered = packet.qos === 1 ? shared.awaitDelivery(packet, protocolVersion, clientId) : undefined
        if (delivered === undefined) return false
        void delivered.then((outcome) => ack.settle(outcome))
        return true
      }
    : undefined
  if (options.sharedEmitterUrl !== undefined && options.persistence?.kind !== 'redis') throw FG_ERR_INGRESS_SHARED_EMITTER()
  // With a shared emitter other brokers' subscriptions reach the persistence through it, not through this process.
  const sessions = createSessionPersistence(options.persistence, { countLocally: options.sharedEmitterUrl === undefined })
  const hooks: AedesOptions = {
    ...interceptorHooks(() => holding ? holdForever : interceptor ?? sharedInterceptor, authorizePublish, {
      receiveMaximum: limits.receiveMaximum,
      maxHeldBytes: limits.maxHeldBytes,
      paused (count) {
        metrics.pausedConnections.set(count)
        if (count === 1) log.warn({ maxHeldBytes: limits.maxHeldBytes }, 'held publishes reached max-held-bytes: devices that publish are paused until Kafka catches up')
        else if (count === 0) log.info('held publishes below max-held-bytes again: paused devices resumed')
      },
      exceeded (client) {
        metrics.receiveMaximumExceeded.inc()
        log.info({ clientId: client.id, receiveMaximum: limits.receiveMaximum }, 'device disconnected: more QoS 1/2 publishes in flight than the Receive Maximum')
        client.disconnect({ reasonCode: RECEIVE_MAXIMUM_EXCEEDED }, () => {})
      }
    }),
    ...access.hooks,
    sharedSubscriptions: shared.handler,
    persistence: sessions.persistence as AedesOptions['persistence'],
    ...(options.sharedEmitterUrl !== undefined ? { mq: redisEmitter(options.sharedEmitterUrl, (err) => log.warn({ err: err.message }, 'shared emitter: Redis error')) } : {}),
    maximumPacketSize: limits.maximumPacketSize,
    receiveMaximum: limits.receiveMaximum,
    keepaliveLimit: limits.maxKeepAliveSeconds,
    // AIO's answer to a refused 3.1.1 publish: a PUBACK and a counted drop, not a dropped connection the device
    // would reconnect to and resend the same message on, forever.
    acknowledgeUnauthorizedPublish: true
  }
  // An egress says so in its CONNECT: its plain subscriptions then hold device PUBACKs as its own group.
  const accessPreConnect = hooks.preConnect
  hooks.preConnect = (client, packet, callback) => {
    shared.connecting(client, packet)
    if (accessPreConnect !== undefined) accessPreConnect(client, packet, callback)
    else callback(null, true)
  }
  if (auth) {
    const accessAuthenticate = access.hooks.authenticate!
    const accessAuthorizeSubscribe = access.hooks.authorizeSubscribe!
    hooks.authenticate = (client, username, password, done) => {
      if (access.owns(client)) return accessAuthenticate(client, username, password, done)
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
      if (access.owns(client)) return accessAuthorizeSubscribe(client, subscription, callback)
      const p = permissions.get(client)
      // A null subscription is refused in the SUBACK (0x80 / 0x87) while the connection stays up; an error would close it.
      if (p && !permits(p, 'subscribe', subscription.topic)) return callback(null, null)
      callback(null, subscription)
    }
  }

  broker = await Aedes.createBroker(hooks).catch(async (err: unknown) => { await sessions.close().catch(() => {}); throw err })
  shared.attach(broker)
  const gate = connectionGate(broker, options.holdConnections === true)
  // A message larger than a device's own Maximum Packet Size, discarded for it (aedes, patched: §3.1.2.11.4).
  broker.on('publishTooLarge', () => metrics.forwardsDropped.inc({ reason: 'packet-too-large' }))
  broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'))
  broker.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'))

  const listeners: Listener[] = []
  const closeListeners = async (): Promise<void> => { for (const l of listeners.splice(0)) await l.close() }
  try {
    listeners.push(await bind(() => tcpListener(gate.handle, options.host, options.mqttPort), options.host, options.mqttPort))
    if (options.tls) { const tls = options.tls; listeners.push(await bind(() => tlsListener(gate.handle, options.host, tls.port, tls), options.host, tls.port)) }
    if (options.wsPort !== undefined) { const port = options.wsPort; listeners.push(await bind(() => wsListener(gate.handle, options.host, port), options.host, port)) }
  } catch (err) {
    await closeListeners()
    await new Promise<void>((resolve) => broker!.close(() => resolve()))
    await sessions.close()
    throw err
  }
  const tcp = listeners[0]!
  const started = broker
  let frontDoor: FrontDoor | undefined
  const openFrontDoor = (source: AccessSource): FrontDoor => (frontDoor ??= startFrontDoor({
    source,
    log: log.child({ component: 'listeners' }),
    metrics,
    networkHost: options.networkHost ?? '::',
    loopbackHost: '127.0.0.1',
    allowAnonymous,
    reservedPorts: new Set(listeners.map((l) => l.port)),
    handle (stream, connection, req) {
      access.register(stream, connection)
      started.handle(stream as never, req as never)
    },
    recheck: access.recheck
  }))
  if (options.access !== undefined) openFrontDoor(options.access)

  return {
    broker,
    setInterceptor (next) { interceptor = next },
    open: gate.open,
    holdPublishes () { holding = true },
    mqtt: { host: tcp.host, port: tcp.port },
    listeners: listeners.map(({ kind, host, port }) => ({ kind, host, port })),
    shared,
    metricsRegistry,
    get frontDoor () { return frontDoor },
    openFrontDoor,
    limits,
    anonymousOffLoopback,
    async close () {
      // Stop accepting, then let aedes end its clients so they see a clean disconnect.
      shared.close()
      const closing = Promise.all([closeListeners(), frontDoor?.close()])
      await new Promise<void>((resolve) => started.close(() => resolve()))
      await closing
      await sessions.close()
    }
  }
}

/**
 * Connections accepted while the gateway is not ready yet wait here, unread: a device that reconnects at boot (a
 * persistent session resending what the last process never acknowledged) must not find a broker with no dataflow
 * behind it, which would acknowledge its messages into nothing. The port is bound at once, so its number is known.
 */
function connectionGate (broker: Aedes, holding: boolean): { handle: Handle, open: () => void } {
  let waiting: Array<[Duplex, IncomingMessage | undefined]> | undefined = holding ? [] : undefined
  return {
    handle (stream, req) {
      if (waiting === undefined) return broker.handle(stream as never, req as never)
      waiting.push([stream, req])
    },
    open () {
      const held = waiting ?? []
      waiting = undefined
      for (const [stream, req] of held) if (!stream.destroyed) broker.handle(stream as never, req as never)
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
