import { readdir, readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url))
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml'
}
// Everything comes from this origin: no CDN, no inline script; the tail's WebSocket is same-origin too.
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

/**
 * The web UI (services/admin/ui): static files read once at start and served from memory at `/` and `/ui/<file>`.
 * Only files that exist in that folder at start are routes, so no request path ever reaches the file system.
 */
export async function uiPlugin (app: FastifyInstance): Promise<void> {
  const files = new Map<string, { type: string, body: Buffer }>()
  for (const name of await readdir(UI_DIR)) {
    const type = TYPES[extname(name)]
    if (type !== undefined) files.set(name, { type, body: await readFile(join(UI_DIR, name)) })
  }
  const send = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const file = files.get(name)!
    return reply.header('content-type', file.type).header('cache-control', 'no-cache')
      .header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').send(file.body)
  }
  if (files.has('index.html')) app.get('/', send('index.html'))
  for (const name of files.keys()) app.get(`/ui/${name}`, send(name))
}
