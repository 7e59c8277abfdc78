import { createSign, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { RigInfo } from './rig.js'

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url')

export interface TokenOptions { audience?: string, subject?: string, lifetimeSeconds?: number, now?: number }

/** An RS256 JWT the rig's OAUTHBEARER listener accepts (signed with the key whose public half is in its JWKS). */
export function signRigToken (r: RigInfo, { audience = r.oauth.audience, subject = 'flowgate-test', lifetimeSeconds = 3600, now = Date.now() }: TokenOptions = {}): { token: string, expiresAt: number } {
  const iat = Math.floor(now / 1000)
  const exp = iat + lifetimeSeconds
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: r.oauth.kid }))
  const payload = b64url(JSON.stringify({ sub: subject, aud: audience, iat, nbf: iat, exp, jti: randomUUID() }))
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(readFileSync(r.oauth.privateKey))
  return { token: `${header}.${payload}.${b64url(signature)}`, expiresAt: exp * 1000 }
}
