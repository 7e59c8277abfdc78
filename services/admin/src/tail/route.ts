import { createHash, timingSafeEqual } from 'node:crypto'
import websocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'
import { toFrame } from './frame.js'
import type { TailHub } from './hub.js'
import { TAIL_CLOSE, tailDefaults } from './options.js'
import { parseTailQuery } from './query.js'

export interface TailRouteOptions {
  hub: TailHub
  token: string
  /** Where the route lives: `${basePath}/tail` (not `prefix`: fastify reads that option itself). */
  basePath: string
  maxQueue?: number
  authTimeoutMs?: number
  logger?: Logger
}

/** Constant-time token check, as the REST API's bearer check: hash both sides so lengths leak nothing. */
function tokenCheck (token: string): (given: unknown) => boolean {
  const expected = createHash('sha256').update(token).digest()
  return (given) => typeof given === 'string' && given !== '' && timingSafeEqual(createHash('sha256').update(given).digest(), expected)
}

/**
 * `GET /api/v1/tail` (DESIGN §3): a WebSocket of tail frames. The token comes in the `Authorization: Bearer` header
 * or, because browsers cannot set headers on a WebSocket, as a first message `{"type":"auth","token":"…"}` within
 * 5 s. A wrong or missing token closes with 4401, a bad query with 4400; both carry a reason.
 */
export async function tailRoute (app: FastifyInstance, opts: TailRouteOptions): Promise<void> {
  const valid = tokenCheck(opts.token)
  const highWater = tailDefaults.socketHighWater
  // Client → server messages are only the auth frame: a small cap keeps a stranger from sending megabytes.
  await app.register(websocket, { options: { maxPayload: 16 * 1024 } })

  app.get(`${opts.basePath}/tail`, { websocket: true }, (socket: WebSocket, req) => {
    const query = parseTailQuery(req.query as Record<string, unknown>)
    if ('problem' in query) { socket.close(TAIL_CLOSE.badRequest, query.problem.slice(0, 120)); return }

    const start = (): void => {
      const reader = opts.hub.subscribe(query.filter, { maxQueue: opts.maxQueue ?? tailDefaults.maxQueue })
      let waiting = false
      // Send while the socket takes it; past the high-water mark stop, and let the reader's bounded queue (and its
      // drop count) absorb the rest until a send completes. The dataflow never waits on this loop.
      const pump = (): void => {
        waiting = false
        while (socket.readyState === socket.OPEN) {
          if (socket.bufferedAmount > highWater) { waiting = true; return }
          const item = reader.shift()
          if (item === undefined) return
          socket.send(JSON.stringify(toFrame(item.event, query.maxPayload, item.dropped)), sent)
        }
      }
      const sent = (err?: Error | null): void => { if (err == null && waiting) pump() }
      socket.on('close', () => reader.close())
      reader.onReadable(() => { if (!waiting) pump() })
      opts.logger?.debug({ filter: query.filter }, 'tail reader subscribed')
    }
    const refuse = (why: string): void => socket.close(TAIL_CLOSE.unauthorized, why)

    const header = req.headers.authorization
    if (header !== undefined) {
      const given = /^bearer /i.test(header) ? header.slice(7).trim() : ''
      if (valid(given)) start()
      else refuse('wrong bearer token')
      return
    }
    const timer = setTimeout(() => refuse('no auth message within 5 s'), opts.authTimeoutMs ?? tailDefaults.authTimeoutMs)
    socket.once('close', () => clearTimeout(timer))
    socket.once('message', (data, isBinary) => {
      clearTimeout(timer)
      let msg: { type?: unknown, token?: unknown } | undefined
      try { msg = isBinary ? undefined : JSON.parse(String(data)) } catch { msg = undefined }
      if (msg?.type !== 'auth') { refuse('expected {"type":"auth","token":"…"} first'); return }
      if (!valid(msg.token)) { refuse('wrong token'); return }
      start()
    })
  })
}
