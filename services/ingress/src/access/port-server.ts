import { createServer as createTcpServer, type Server as NetServer, type Socket, type AddressInfo } from 'node:net'
import { createServer as createTlsServer, type Server as TlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { once } from 'node:events'
import type { Duplex } from 'node:stream'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { ResolvedPort } from './resolve.js'

/** What the broker's hooks learn about a connection: which port it came through, and its TLS socket if any. */
export interface Connection {
  port: PortServer
  tlsSocket?: TLSSocket
}

export type HandleConnection = (stream: Duplex, connection: Connection, req?: IncomingMessage) => void

/**
 * One listener port's server. Its resolved configuration is swapped in place (`config`): new connections and the
 * broker's per-publish checks see the new one at once; a new server certificate or client CA bundle reaches the
 * TLS layer through `setSecureContext`, without closing anything. A change of protocol, TLS on/off or bind address
 * needs a new server (`needsRebind`).
 */
export interface PortServer {
  config: ResolvedPort
  readonly bound: string
  /** Streams handed to the broker, for re-checking and closing. */
  readonly streams: Set<Duplex>
  update: (next: ResolvedPort) => void
  close: () => Promise<void>
}

export function needsRebind (a: ResolvedPort, b: ResolvedPort): boolean {
  return a.protocol !== b.protocol || (a.tls === undefined) !== (b.tls === undefined) || a.host !== b.host ||
    (a.clientCas === undefined) !== (b.clientCas === undefined)
}

function secureContext (config: ResolvedPort): SecureContextOptions & { requestCert: boolean, rejectUnauthorized: boolean } {
  return {
    cert: config.tls!.cert,
    key: config.tls!.key,
    ...(config.clientCas !== undefined ? { ca: config.clientCas } : {}),
    // The certificate is asked for but not enforced by the handshake: a refused device gets a CONNACK that says
    // why (and a port may also take passwords or tokens from devices without one).
    requestCert: config.clientCas !== undefined,
    rejectUnauthorized: false
  }
}

export async function startPortServer (initial: ResolvedPort, handle: HandleConnection): Promise<PortServer> {
  const streams = new Set<Duplex>()
  let config = initial
  const track = (stream: Duplex): void => {
    streams.add(stream)
    stream.once('close', () => streams.delete(stream))
  }
  let server: NetServer | TlsServer | HttpServer
  let wss: WebSocketServer | undefined
  const self: PortServer = {
    get config () { return config },
    set config (c) { config = c },
    bound: '',
    streams,
    update (next) {
      const certsChanged = next.tls !== undefined && (next.tls.cert !== config.tls?.cert || next.tls.key !== config.tls?.key || next.clientCas !== config.clientCas)
      config = next
      if (certsChanged) (server as TlsServer).setSecureContext(secureContext(next))
    },
    async close () {
      for (const s of streams) s.destroy()
      // Sockets that never became an MQTT stream (a TLS handshake, a WebSocket upgrade still under way).
      for (const s of raw) s.destroy()
      if (wss !== undefined) { for (const c of wss.clients) c.terminate(); await new Promise<void>((resolve) => wss!.close(() => resolve())) }
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  if (config.protocol === 'Mqtt') {
    const onSocket = (socket: Socket): void => {
      track(socket)
      handle(socket, { port: self, ...(config.tls !== undefined ? { tlsSocket: socket as TLSSocket } : {}) })
    }
    // TCP_NODELAY: see listeners.ts (PUBACKs that wait for Kafka must not wait for Nagle too).
    server = config.tls !== undefined
      ? createTlsServer({ noDelay: true, ...secureContext(config) }, onSocket)
      : createTcpServer({ noDelay: true }, onSocket)
  } else {
    server = config.tls !== undefined ? createHttpsServer({ noDelay: true, ...secureContext(config) }) : createHttpServer({ noDelay: true })
    wss = new WebSocketServer({
      server: server as HttpServer,
      handleProtocols: (protocols) => protocols.has('mqtt') ? 'mqtt' : false,
      verifyClient: ({ origin }, done) => {
        // A browser always sends Origin; devices and native clients do not. Browsers are let in only from the
        // origins the port lists, so a web page cannot use its visitors to reach the broker.
        const allowed = origin === undefined || origin === '' || config.allowedOrigins.includes('*') || config.allowedOrigins.includes(origin)
        done(allowed, allowed ? undefined : 403, allowed ? undefined : 'Origin not allowed on this port (BrokerListener ports[].allowedOrigins)')
      }
    })
    wss.on('connection', (socket, req) => {
      const stream = createWebSocketStream(socket)
      track(stream)
      handle(stream, { port: self, ...(config.tls !== undefined ? { tlsSocket: req.socket as TLSSocket } : {}) }, req)
    })
  }
  const raw = new Set<Socket>()
  server.on('connection', (socket: Socket) => { raw.add(socket); socket.once('close', () => raw.delete(socket)) })
  server.listen(config.port, config.host)
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err })])
  const address = server.address() as AddressInfo
  Object.defineProperty(self, 'bound', { value: address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}` })
  return self
}
