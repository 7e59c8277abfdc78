import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CliError } from './errors.js'
import { flagOrEnv } from './flags.js'

export const DEFAULT_SERVER = 'http://127.0.0.1:8080'

/** The flags every command that talks to the admin API takes (DESIGN §5). */
export const clientFlags = {
  server: { type: 'string' },
  token: { type: 'string' },
  namespace: { type: 'string', short: 'n' }
} as const

/** An answer from the admin API that is not 2xx: its code, message and field errors, as the API sent them. */
export class ApiError extends CliError {
  readonly status: number
  readonly body: { code?: string, message?: string, errors?: Array<{ path: string, message: string, allowed?: unknown[], document?: number }>, [k: string]: unknown }
  constructor (status: number, body: ApiError['body']) {
    super(body.code ?? `FG_ERR_HTTP_${status}`, body.message ?? `HTTP ${status}`, 1)
    this.status = status
    this.body = body
  }
}

export interface AdminClient {
  server: string
  request: <T = any>(method: string, path: string, body?: { text: string, contentType: string } | unknown) => Promise<T>
}

/**
 * A client for the admin API: `--server` / FLOWGATE_SERVER (default http://127.0.0.1:8080), `--token` /
 * FLOWGATE_ADMIN_TOKEN, else the token file a local `flowgate start` wrote into ./.flowgate.
 */
export function adminClient (values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AdminClient {
  const server = (flagOrEnv(values, 'server', env) ?? DEFAULT_SERVER).replace(/\/+$/, '')
  const token = (typeof values.token === 'string' ? values.token : undefined) ?? env.FLOWGATE_ADMIN_TOKEN ?? localToken(cwd, env)
  return {
    server,
    async request (method, path, body) {
      const raw = typeof body === 'object' && body !== null && 'text' in body && 'contentType' in body
        ? body as { text: string, contentType: string }
        : body === undefined ? undefined : { text: JSON.stringify(body), contentType: 'application/json' }
      let res: Response
      try {
        res = await fetch(server + path, {
          method,
          headers: {
            accept: 'application/json',
            ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
            ...(raw !== undefined ? { 'content-type': raw.contentType } : {})
          },
          ...(raw !== undefined ? { body: raw.text } : {})
        })
      } catch (err) {
        const cause = (err as { cause?: { code?: string, message?: string } }).cause
        throw new CliError('FG_ERR_CLI_CONNECT', `cannot reach the admin API at ${server}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, 1)
      }
      const text = await res.text()
      let parsed: any
      try {
        parsed = text === '' ? undefined : JSON.parse(text)
      } catch {
        parsed = { message: text.slice(0, 200) }
      }
      if (!res.ok) {
        if (res.status === 401 && token === undefined) {
          throw new ApiError(401, { code: 'FG_ERR_UNAUTHORIZED', message: 'the admin API needs a token: --token, FLOWGATE_ADMIN_TOKEN, or run where ./.flowgate/admin-token is' })
        }
        throw new ApiError(res.status, parsed ?? {})
      }
      return parsed
    }
  }
}

function localToken (cwd: string, env: NodeJS.ProcessEnv): string | undefined {
  const dataDir = env.FLOWGATE_DATA_DIR ?? join(cwd, '.flowgate')
  try {
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()
    return token === '' ? undefined : token
  } catch {
    return undefined
  }
}
