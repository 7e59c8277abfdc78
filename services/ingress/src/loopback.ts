import { isIP } from 'node:net'

/** True for 127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach. */
export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost') return true
  const h = host.replace(/^\[|\]$/g, '')
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1'
  return false
}
