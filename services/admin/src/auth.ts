import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { FG_ERR_UNAUTHORIZED } from './errors.js'

/**
 * Bearer-token check. Both sides are hashed first so the comparison is constant-time whatever the lengths
 * (timingSafeEqual needs equal lengths, and comparing lengths first would leak the token's).
 */
export function bearerCheck (token: string): (req: FastifyRequest) => Promise<void> {
  const expected = createHash('sha256').update(token).digest()
  return async (req) => {
    const header = req.headers.authorization
    const given = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : ''
    const digest = createHash('sha256').update(given).digest()
    if (given === '' || !timingSafeEqual(digest, expected)) throw FG_ERR_UNAUTHORIZED()
  }
}
