import { pino } from 'pino'
import { createFetchHandler } from '../src/fetch-handler.js'
import { startTranslator, type Translator } from '../src/translator.js'
import type { HandlerOptions } from '../src/options.js'

export const quiet = pino({ level: 'silent' })
export const fixedUUID = (): string => '11111111-2222-4333-8444-555555555555'

export interface Doors {
  /** POST through the real HTTP listener (127.0.0.1, port 0) with fetch. */
  http: (path: string, body: unknown, init?: RequestInit) => Promise<{ status: number, body: any }>
  /** The same request handed to the Web fetch handler directly, as a `Request`. */
  direct: (path: string, body: unknown, init?: RequestInit) => Promise<{ status: number, body: any }>
  server: Translator
}

export async function doors (opts: Partial<HandlerOptions> = {}): Promise<Doors> {
  const server = await startTranslator({ port: 0, logger: quiet, randomUUID: fixedUUID, ...opts })
  const handler = createFetchHandler({ randomUUID: fixedUUID, ...opts })
  const init = (body: unknown, extra?: RequestInit): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...extra
  })
  return {
    server,
    async http (path, body, extra) {
      const r = await fetch(`http://127.0.0.1:${server.port}${path}`, init(body, extra))
      return { status: r.status, body: await r.json() }
    },
    async direct (path, body, extra) {
      const r = await handler(new Request(`http://translator.invalid${path}`, init(body, extra)))
      return { status: r.status, body: await r.json() }
    }
  }
}

export const b64 = (bytes: Uint8Array | string): string => Buffer.from(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes).toString('base64')
