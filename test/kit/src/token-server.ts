import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RigInfo } from './rig.js'
import { signRigToken } from './jwt.js'

export interface TokenServer {
  url: string
  header: string
  requests: Array<{ resource: string | null, clientId: string | null, at: number }>
  /** Lifetime of the tokens issued from now on (seconds). */
  lifetimeSeconds: number
  close: () => Promise<void>
}

/**
 * A managed-identity token endpoint in App Service form (IDENTITY_ENDPOINT + IDENTITY_HEADER) on 127.0.0.1: checks
 * the header, issues an RS256 JWT the rig's OAUTHBEARER listener accepts, for the requested `resource` (or a fixed
 * audience), valid `lifetimeSeconds`.
 */
export async function tokenServer (r: RigInfo, { lifetimeSeconds = 3600, audience }: { lifetimeSeconds?: number, audience?: string } = {}): Promise<TokenServer> {
  const header = `secret-${Math.random().toString(36).slice(2)}`
  const requests: TokenServer['requests'] = []
  const state = { lifetimeSeconds }
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (req.headers['x-identity-header'] !== header) { res.writeHead(401).end(); return }
    const resource = url.searchParams.get('resource')
    requests.push({ resource, clientId: url.searchParams.get('client_id'), at: Date.now() })
    const { token, expiresAt } = signRigToken(r, { audience: audience ?? resource ?? '', lifetimeSeconds: state.lifetimeSeconds, subject: url.searchParams.get('client_id') ?? 'system-assigned' })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ access_token: token, expires_on: String(Math.floor(expiresAt / 1000)), resource, token_type: 'Bearer' }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/token`,
    header,
    requests,
    get lifetimeSeconds () { return state.lifetimeSeconds },
    set lifetimeSeconds (v: number) { state.lifetimeSeconds = v },
    close: async () => { await new Promise((resolve) => server.close(resolve)) }
  }
}
