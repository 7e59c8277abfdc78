import { createServer as createTcpServer, type Server as NetServer } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

/** Hands a connection to the broker (or holds it until the broker may take it: see `ingress.ts`). */
export type Handle = (stream: Duplex, req?: IncomingMessage) => void

export type Listener = { kind: 'tcp' | 'tls' | 'ws', host: string, port: number, close: () => Promise<void> }

async function listen (server: NetServer | HttpServer, port: number, host: string): Promise<number> {
  server.listen(port, host)
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err })])
  return (server.address() as AddressInfo).port
}

/**
 * Stops accepting and ends every connection still open: `server.close()` alone waits for them, and a socket that
 * never sent CONNECT is not the broker's to close, so it would keep the process alive.
 */
const closer = (server: NetServer | HttpServer) => {
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (socket: import('node:net').Socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)) })
  return () => new Promise<void>((resolve) => {
    server.close(() => resolve())
    for (const socket of sockets) socket.destroy()
  })
}

// Nagle's algorithm holds a small write back while earlier bytes are unacknowledged: a PUBACK that leaves when Kafka
// answers, not at once, then waits for the device's next packet to carry the TCP ACK — one publish interval per
// connection (20 ms at 50 msg/s). MQTT packets are whole messages; writes are already coalesced per event-loop turn.
export async function tcpListener (handle: Handle, host: string, port: number): Promise<Listener> {
  const server = createTcpServer({ noDelay: true }, (socket) => handle(socket))
  const close = closer(server)
  return { kind: 'tcp', host, port: await listen(server, port, host), close }
}

export interface TlsListenerOptions { cert: string, key: string, clientCa?: string }

/** MQTT over TLS; with a client CA, devices must present a certificate that chains to it (mutual TLS). */
export async function tlsListener (handle: Handle, host: string, port: number, tls: TlsListenerOptions): Promise<Listener> {
  const server = createTlsServer({
    noDelay: true,
    cert: tls.cert,
    key: tls.key,
    ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {})
  }, (socket) => handle(socket))
  const close = closer(server)
  return { kind: 'tls', host, port: await listen(server, port, host), close }
}

/** MQTT over WebSocket (the `mqtt` subprotocol), for browsers and devices behind HTTP proxies. */
export async function wsListener (handle: Handle, host: string, port: number): Promise<Listener> {
  const server = createHttpServer({ noDelay: true })
  const wss = new WebSocketServer({ server, handleProtocols: (protocols) => protocols.has('mqtt') ? 'mqtt' : false })
  wss.on('connection', (socket, req) => handle(createWebSocketStream(socket), req))
  const closeServer = closer(server)
  const bound = await listen(server, port, host)
  return {
    kind: 'ws',
    host,
    port: bound,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await closeServer()
    }
  }
}
