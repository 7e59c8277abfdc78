import { Agent, request } from 'undici'
import { ReasonCode, type AuthenticationMethod, type AuthnOutcome, type Credentials } from '../types.js'

export interface CustomAuthenticationSettings {
  /** `customSettings.endpoint`: an https:// URL. */
  endpoint: string
  /** `customSettings.headers`, sent with every request (an API key, a tenant). */
  headers?: Record<string, string>
  /** PEM bundle from `caCertConfigMap`: the CAs the server's certificate must chain to (Node's defaults without it). */
  ca?: string
  /** From the kubernetes.io/tls Secret `auth.x509.secretRef`: the broker's client certificate for mutual TLS. */
  clientCert?: { cert: string, key: string }
  /** Whole request, connect to last body byte. */
  timeoutMs?: number
}

/** The version of AIO's custom authentication API (Azure-Samples/explore-iot-operations, auth-server-template). */
export const CUSTOM_AUTH_API_VERSION = '0.5.0'
// A device waits for its CONNACK while the server thinks; mqtt.js gives up after 30 s.
const DEFAULT_TIMEOUT_MS = 5000
// Answers are a few attributes; anything far larger is not one.
const MAX_ANSWER_BYTES = 64 * 1024
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** The JSON body of a `connect` request (API 0.5.0, ConnectRequest). */
interface ConnectRequest { type: 'connect', username?: string, password?: string, certs?: string }

/**
 * AIO's Custom method: the device's credentials go to an external HTTPS server, which answers pass (with attributes
 * and an optional expiry) or fail (with the MQTT reason code). Every set of credentials is relevant to it, except
 * when the server cannot be asked or answers outside the contract: AIO treats "failure to communicate with the
 * custom authentication server" as credentials not relevant, so the next method gets them. Such outcomes carry a
 * message for the log; no message ever contains the password.
 *
 * MQTT 5 enhanced authentication (an authentication method in CONNECT) is irrelevant here: API 0.5.0's connect
 * request has no field for the method or its data, so the server could not check them.
 *
 * The client certificate chain is forwarded as the device presented it, verified or not: the server judges it.
 */
export function createCustomAuthentication (settings: CustomAuthenticationSettings, deps: { now?: () => number } = {}): AuthenticationMethod {
  const now = deps.now ?? Date.now
  const url = endpointUrl(settings.endpoint)
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS
  // A dedicated agent: its CA and client certificate apply to this server only, and its kept-alive sockets spare a
  // TLS handshake per CONNECT.
  const agent = new Agent({
    connect: {
      ...(settings.ca !== undefined ? { ca: settings.ca } : {}),
      ...(settings.clientCert !== undefined ? { cert: settings.clientCert.cert, key: settings.clientCert.key } : {})
    },
    keepAliveTimeout: 30_000
  })
  const headers = requestHeaders(settings.headers ?? {})

  return {
    method: 'Custom',
    async authenticate (credentials: Credentials, signal?: AbortSignal): Promise<AuthnOutcome> {
      if (credentials.authenticationMethod !== undefined) {
        return { kind: 'irrelevant', message: `enhanced authentication method ${credentials.authenticationMethod} cannot be forwarded with custom authentication API ${CUSTOM_AUTH_API_VERSION}` }
      }
      const timeout = AbortSignal.timeout(timeoutMs)
      const abort = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
      let status: number
      let text: string
      try {
        const answer = await request(url, { method: 'POST', headers, body: JSON.stringify(connectRequest(credentials)), dispatcher: agent, signal: abort })
        status = answer.statusCode
        text = await answer.body.text()
      } catch (err) {
        if (timeout.aborted) return unavailable(`no answer within ${timeoutMs} ms`)
        if (signal?.aborted === true) return unavailable('the request was abandoned (the device went away)')
        return unavailable(describeError(err))
      }
      return interpretAnswer(status, text, credentials, now())
    },
    async close () {
      await agent.close()
    }
  }
}

function endpointUrl (endpoint: string): URL {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new Error(`customSettings.endpoint is not a URL: ${JSON.stringify(endpoint)}`)
  }
  // The request carries passwords: never in clear text.
  if (url.protocol !== 'https:') throw new Error(`customSettings.endpoint must be an https:// URL, not ${url.protocol}//`)
  url.searchParams.set('api-version', CUSTOM_AUTH_API_VERSION)
  return url
}

/** The configured headers with content-type forced to JSON (keys lower-cased so a configured one cannot double it). */
function requestHeaders (configured: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(configured)) headers[name.toLowerCase()] = value
  headers['content-type'] = 'application/json'
  return headers
}

function connectRequest (credentials: Credentials): ConnectRequest {
  const body: ConnectRequest = { type: 'connect' }
  if (credentials.username !== undefined) body.username = credentials.username
  if (credentials.password !== undefined) body.password = credentials.password.toString('base64')
  const chain = credentials.certificate?.chain ?? []
  // X509Certificate#toString() is the PEM form.
  if (chain.length > 0) body.certs = chain.map((cert) => cert.toString().trimEnd() + '\n').join('')
  return body
}

function interpretAnswer (status: number, text: string, credentials: Credentials, nowMs: number): AuthnOutcome {
  const { clientId, username } = credentials
  // Server-supplied text for the log: one short line, and a server may echo the request, so without the password.
  const serverText = (value: string): string => clip(redactPassword(value, credentials.password))
  if (Buffer.byteLength(text) > MAX_ANSWER_BYTES) return unavailable(`HTTP ${status} with a ${Buffer.byteLength(text)}-byte answer (more than ${MAX_ANSWER_BYTES})`)
  if (status === 200) {
    const body = parseObject(text)
    if (body === undefined) return unavailable('HTTP 200 whose body is not a JSON object')
    const attributes = stringAttributes(body.attributes)
    if (attributes === undefined) return unavailable('HTTP 200 whose attributes are not an object of strings, numbers or booleans')
    let expiresAt: number | undefined
    if (body.expiry !== undefined) {
      expiresAt = parseRfc3339(body.expiry)
      if (expiresAt === undefined) return unavailable(`HTTP 200 whose expiry is not an RFC 3339 time: ${serverText(JSON.stringify(body.expiry) ?? 'null')}`)
      if (expiresAt <= nowMs) {
        return { kind: 'fail', reasonCode: ReasonCode.NOT_AUTHORIZED, message: `custom authentication server passed the client with an expiry in the past (${String(body.expiry)})` }
      }
    }
    return {
      kind: 'pass',
      principal: { clientId, ...(username !== undefined ? { username } : {}), attributes },
      ...(expiresAt !== undefined ? { expiresAt } : {})
    }
  }
  if (status === 403) {
    const body = parseObject(text)
    const reason = body?.reason
    // A 403 must refuse: a missing reason, or a success code (below 0x80) in it, becomes "not authorized".
    const reasonCode = typeof reason === 'number' && Number.isInteger(reason) && reason >= 0x80 && reason <= 0xff ? reason : ReasonCode.NOT_AUTHORIZED
    const detail = typeof body?.message === 'string' ? `: ${serverText(body.message)}` : ''
    return { kind: 'fail', reasonCode, message: `custom authentication server denied the client (reason 0x${reasonCode.toString(16)})${detail}` }
  }
  if (status === 422) {
    const versions = parseObject(text)?.supportedVersions
    const listed = Array.isArray(versions) ? versions.map(String).join(', ') : 'none listed'
    return unavailable(`the server does not support custom authentication API ${CUSTOM_AUTH_API_VERSION} (HTTP 422; it supports: ${serverText(listed)})`)
  }
  // 400 and 405 carry a text/plain error message for the log.
  return unavailable(`HTTP ${status}${text.trim() !== '' ? `: ${serverText(text.trim())}` : ''}`)
}

function redactPassword (text: string, password: Buffer | undefined): string {
  if (password === undefined || password.length === 0) return text
  let redacted = text
  for (const form of [password.toString('base64'), password.toString('utf8')]) redacted = redacted.split(form).join('[password]')
  return redacted
}

function unavailable (why: string): AuthnOutcome {
  return { kind: 'irrelevant', message: `custom authentication server unusable, credentials treated as not relevant: ${why}` }
}

function parseObject (text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** The attributes as strings; absent means none (the contract asks for `{}`, tolerated). */
function stringAttributes (value: unknown): Record<string, string> | undefined {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const attributes: Record<string, string> = {}
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === 'string') attributes[name] = v
    else if (typeof v === 'number' || typeof v === 'boolean') attributes[name] = String(v)
    else return undefined
  }
  return attributes
}

function parseRfc3339 (value: unknown): number | undefined {
  if (typeof value !== 'string' || !RFC_3339.test(value)) return undefined
  const ms = Date.parse(value.replace(/[t ]/, 'T').replace(/z$/, 'Z'))
  return Number.isNaN(ms) ? undefined : ms
}

function describeError (err: unknown): string {
  const e = err as { code?: unknown, message?: unknown, cause?: { code?: unknown, message?: unknown } }
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : typeof e.cause?.message === 'string' ? e.cause.message : String(err)
  return code !== undefined ? `${code}: ${clip(message)}` : clip(message)
}

/** One short line: a message for the log, not a page. */
function clip (text: string): string {
  const line = text.replace(/\s+/g, ' ')
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}
