import { X509Certificate } from 'node:crypto'
import type { Duplex } from 'node:stream'
import type { DetailedPeerCertificate } from 'node:tls'
import type { AedesOptions, Client, ConnectPacket } from 'aedes'
import type { Logger } from 'pino'
import { authenticateInOrder } from './authn/chain.js'
import { ReasonCode, type Credentials, type PresentedCertificate, type Principal } from './types.js'
import type { Connection, PortServer } from './port-server.js'
import type { AccessMetrics } from './metrics.js'
import type { BrokerLimits } from './limits.js'

/** A device admitted through a listener port: who it is, and what it presented (to check again when things change). */
interface Session {
  principal: Principal
  credentials: Credentials
  port: PortServer
  authenticationFingerprint?: string
  expiryTimer?: NodeJS.Timeout
}

// MQTT 3.1.1 CONNACK return codes (§3.2.2.3) for the v5 reasons the access layer gives.
const V3_RETURN_CODE: Record<number, number> = { [ReasonCode.BAD_USERNAME_OR_PASSWORD]: 4, [ReasonCode.NOT_AUTHORIZED]: 5, [ReasonCode.QUOTA_EXCEEDED]: 3, [ReasonCode.SERVER_UNAVAILABLE]: 3, [ReasonCode.BAD_AUTHENTICATION_METHOD]: 5 }
type AuthenticateDone = Parameters<NonNullable<AedesOptions['authenticate']>>[3]

// setTimeout's ceiling (~24.8 days): a later expiry is checked again then.
const MAX_TIMER_MS = 2 ** 31 - 1

export interface AccessHooks {
  /** Called with each stream handed to aedes, before `broker.handle`. */
  register: (stream: Duplex, connection: Connection) => void
  hooks: Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizeSubscribe' | 'acceptsAuthenticationMethod'>
  /** Publish authorization for ports the front door owns; `undefined` for other connections (the built-in listener). */
  mayPublish: (client: Client, topic: string) => boolean | undefined
  /** After a port's authentication or authorization changed: devices that no longer pass are disconnected. */
  recheck: (port: PortServer) => Promise<void>
  clientOf: (stream: Duplex) => Client | undefined
  /** Whether the client came through a BrokerListener port (not the built-in listener). */
  owns: (client: Client) => boolean
}

export function createAccessHooks (opts: { log: Logger, limits: BrokerLimits, metrics: AccessMetrics, connectedClients: () => number }): AccessHooks {
  const connections = new WeakMap<Duplex, Connection>()
  const clients = new WeakMap<Duplex, Client>()
  const connects = new WeakMap<Client, ConnectPacket>()
  const sessions = new WeakMap<Client, Session>()
  const { log, metrics } = opts

  const connectionOf = (client: Client): Connection | undefined => connections.get(client.conn as unknown as Duplex)

  function refuse (client: Client, port: PortServer | undefined, reasonCode: number, message: string, done: AuthenticateDone): void {
    metrics.connectionsRefused.inc({ listener: port?.config.id ?? 'builtin', reason: reasonName(reasonCode) })
    log.info({ clientId: client.id, listener: port?.config.id, reasonCode, reason: message }, 'device refused')
    done(Object.assign(new Error(message), { returnCode: (V3_RETURN_CODE[reasonCode] ?? 5) as 3 | 4 | 5, reasonCode }), false)
  }

  function disconnect (client: Client, reasonCode: number, why: string): void {
    log.info({ clientId: client.id, reasonCode, reason: why }, 'device disconnected')
    metrics.disconnected.inc({ reason: reasonName(reasonCode) })
    client.disconnect({ reasonCode }, () => {})
  }

  function scheduleExpiry (client: Client, session: Session, expiresAt: number | undefined): void {
    clearTimeout(session.expiryTimer)
    if (expiresAt === undefined || !Number.isFinite(expiresAt)) return
    session.expiryTimer = setTimeout(() => { void reauthenticate(client, session, 'credentials expired') }, Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER_MS))
    session.expiryTimer.unref()
  }

  /** Checks the device's credentials again (expiry, a changed BrokerAuthentication); disconnects it if they fail. */
  async function reauthenticate (client: Client, session: Session, why: string): Promise<void> {
    const auth = session.port.config.authentication
    if (auth === undefined || client.closed) return
    const outcome = await authenticateInOrder(auth.methods, session.credentials)
    if (client.closed) return
    if (outcome.kind !== 'pass') return disconnect(client, ReasonCode.NOT_AUTHORIZED, `${why}: ${outcome.kind === 'fail' ? outcome.message : 'not authenticated'}`)
    session.authenticationFingerprint = auth.fingerprint
    scheduleExpiry(client, session, outcome.expiresAt)
  }

  return {
    register (stream, connection) {
      connections.set(stream, connection)
    },
    clientOf: (stream) => clients.get(stream),
    owns: (client) => connectionOf(client) !== undefined,
    mayPublish (client, topic) {
      const session = sessions.get(client)
      if (session === undefined) return connectionOf(client) === undefined ? undefined : false
      const authz = session.port.config.authorization
      if (authz === undefined) return true
      const allowed = authz.policy.publish(session.principal, topic)
      if (!allowed) metrics.publishesRefused.inc({ listener: session.port.config.id, reason: 'not-authorized' })
      return allowed
    },
    hooks: {
      preConnect (client, packet, callback) {
        connects.set(client, packet)
        clients.set(client.conn as unknown as Duplex, client)
        callback(null, true)
      },
      acceptsAuthenticationMethod (client, method) {
        return connectionOf(client)?.port.config.authentication?.enhancedMethods.has(method) === true
      },
      authenticate (client, username, password, done) {
        const connection = connectionOf(client)
        if (opts.connectedClients() >= opts.limits.maxConnections) {
          return refuse(client, connection?.port, ReasonCode.QUOTA_EXCEEDED, `the broker holds its maximum of ${opts.limits.maxConnections} connections`, done)
        }
        if (connection === undefined) return done(null, true)
        const port = connection.port
        const packet = connects.get(client)
        const credentials: Credentials = {
          clientId: client.id,
          protocolVersion: packet?.protocolVersion ?? 4,
          ...(username !== undefined ? { username } : {}),
          ...(password !== undefined ? { password: Buffer.from(password) } : {}),
          ...(packet?.properties?.authenticationMethod !== undefined ? { authenticationMethod: packet.properties.authenticationMethod } : {}),
          ...(packet?.properties?.authenticationData !== undefined ? { authenticationData: packet.properties.authenticationData } : {}),
          ...(connection.tlsSocket !== undefined ? presentedCertificate(connection.tlsSocket) : {})
        }
        connects.delete(client)
        const auth = port.config.authentication
        if (auth === undefined) {
          sessions.set(client, { principal: { clientId: client.id, ...(username !== undefined ? { username } : {}), attributes: {} }, credentials: { clientId: client.id, protocolVersion: credentials.protocolVersion }, port })
          return done(null, true)
        }
        authenticateInOrder(auth.methods, credentials).then((outcome) => {
          if (outcome.kind !== 'pass') return refuse(client, port, outcome.kind === 'fail' ? outcome.reasonCode : ReasonCode.NOT_AUTHORIZED, outcome.kind === 'fail' ? outcome.message : 'not authenticated', done)
          const authz = port.config.authorization
          if (authz !== undefined && !authz.policy.connect(outcome.principal)) {
            return refuse(client, port, ReasonCode.NOT_AUTHORIZED, `no ${authz.name} rule allows ${describe(outcome.principal)} to connect`, done)
          }
          const session: Session = { principal: outcome.principal, credentials, port, authenticationFingerprint: auth.fingerprint }
          sessions.set(client, session)
          scheduleExpiry(client, session, outcome.expiresAt)
          client.once('close' as never, () => clearTimeout(session.expiryTimer))
          done(null, true)
        }, (err: Error) => {
          log.error({ err: err.message, listener: port.config.id }, 'device authentication failed')
          refuse(client, port, ReasonCode.SERVER_UNAVAILABLE, 'authentication failed inside the broker', done)
        })
      },
      authorizeSubscribe (client, subscription, callback) {
        const session = sessions.get(client)
        const authz = session?.port.config.authorization
        if (session === undefined || authz === undefined || authz.policy.subscribe(session.principal, subscription.topic)) return callback(null, subscription)
        metrics.subscriptionsRefused.inc({ listener: session.port.config.id })
        // A null grant is refused in the SUBACK (0x87 / 0x80) while the connection stays up; an error would close it.
        callback(null, null)
      }
      // The device's own Maximum Packet Size (§3.1.2.11.4) is aedes' (patched): it discards what is larger for that
      // device from the exact encoded size, and says so with `publishTooLarge` (counted in ingress.ts).
    },
    async recheck (port) {
      const auth = port.config.authentication
      const authz = port.config.authorization
      await Promise.all([...port.streams].map(async (stream) => {
        const client = clients.get(stream)
        const session = client === undefined ? undefined : sessions.get(client)
        if (client === undefined || session === undefined || client.closed) return
        if (auth !== undefined && session.authenticationFingerprint !== auth.fingerprint) await reauthenticate(client, session, 'authentication changed')
        if (client.closed || authz === undefined) return
        if (!authz.policy.connect(session.principal)) return disconnect(client, ReasonCode.NOT_AUTHORIZED, `${authz.name} no longer allows ${describe(session.principal)} to connect`)
        const filters = Object.keys((client as Client & { subscriptions?: Record<string, unknown> }).subscriptions ?? {})
        const refused = filters.find((f) => !authz.policy.subscribe(session.principal, f))
        if (refused !== undefined) disconnect(client, ReasonCode.NOT_AUTHORIZED, `${authz.name} no longer allows the subscription ${refused}`)
      }))
    }
  }
}

function presentedCertificate (socket: import('node:tls').TLSSocket): { certificate?: PresentedCertificate } {
  const peer = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined
  if (peer === undefined || peer.raw === undefined) return {}
  const chain: X509Certificate[] = []
  const seen = new Set<string>()
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw !== undefined && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256)
    chain.push(new X509Certificate(c.raw))
  }
  const error = socket.authorizationError
  return { certificate: { chain, verified: socket.authorized, ...(error !== undefined && error !== null ? { verifyError: String((error as Error).message ?? error) } : {}) } }
}

function describe (p: Principal): string {
  return `client ${JSON.stringify(p.clientId)}${p.username !== undefined ? ` (user ${JSON.stringify(p.username)})` : ''}`
}

function reasonName (code: number): string {
  switch (code) {
    case ReasonCode.BAD_USERNAME_OR_PASSWORD: return 'bad-credentials'
    case ReasonCode.NOT_AUTHORIZED: return 'not-authorized'
    case ReasonCode.QUOTA_EXCEEDED: return 'quota-exceeded'
    case ReasonCode.BAD_AUTHENTICATION_METHOD: return 'bad-authentication-method'
    default: return 'server-unavailable'
  }
}
