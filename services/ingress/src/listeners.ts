import { createServer as createTcpServer, type Server as NetServer } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { Aedes } from 'aedes'

export type Listener = { kind: 'tcp' | 'tls' | 'ws', host: string, port: number, close: () => Promise<void> }

async function listen (server: NetServer | HttpServer, port: number, host: string): Promise<number> {
  server.listen(port, host)
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => { throw err })])
  return (server.address() as AddressInfo).port
}

const closer = (server: NetServer | HttpServer) => () => new Promise<void>((resolve) => server.close(() => resolve()))

// Nagle's algorithm holds a small write back while earlier bytes are unacknowledged: a PUBACK that leaves when Kafka
// answers, not at once, then waits for the device's next packet to carry the TCP ACK — one publish interval per
// connection (20 ms at 50 msg/s). MQTT packets are whole messages; writes are already coalesced per event-loop turn.
export async function tcpListener (broker: Aedes, host: string, port: number): Promise<Listener> {
  const server = createTcpServer({ noDelay: true }, broker.handle)
  return { kind: 'tcp', host, port: await listen(server, port, host), close: closer(server) }
}

export interface TlsListenerOptions { cert: string, key: string, clientCa?: string }

/** MQTT over TLS; with a client CA, devices must present a certificate that chains to it (mutual TLS). */
export async function tlsListener (broker: Aedes, host: string, port: number, tls: TlsListenerOptions): Promise<Listener> {
  const server = createTlsServer({
    noDelay: true,
    cert: tls.cert,
    key: tls.key,
    ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {})
  }, broker.handle)
  return { kind: 'tls', host, port: await listen(server, port, host), close: closer(server) }
}

/** MQTT over WebSocket (the `mqtt` subprotocol), for browsers and devices behind HTTP proxies. */
export async function wsListener (broker: Aedes, host: string, port: number): Promise<Listener> {
  const server = createHttpServer({ noDelay: true })
  const wss = new WebSocketServer({ server, handleProtocols: (protocols) => protocols.has('mqtt') ? 'mqtt' : false })
  wss.on('connection', (socket, req) => broker.handle(createWebSocketStream(socket), req))
  const bound = await listen(server, port, host)
  return {
    kind: 'ws',
    host,
    port: bound,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await closer(server)()
    }
  }
}
