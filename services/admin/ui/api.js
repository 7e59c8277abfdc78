// The admin REST API (DESIGN §3) from the browser. The token lives in sessionStorage: gone when the tab closes.
const KEY = 'flowgate.token'

export const session = {
  get token () { return sessionStorage.getItem(KEY) ?? '' },
  set token (value) { if (value) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY) }
}

/** An answer that is not 2xx: status plus the API's body ({code, message, errors: [{path, message, allowed}]}). */
export class ApiError extends Error {
  constructor (status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.body = body ?? {}
  }
}

export async function api (method, path, body) {
  return await send(method, path, body === undefined ? undefined : { type: 'application/json', text: JSON.stringify(body) })
}

/** POST /api/v1/apply with the text as the user wrote it: the server parses it, so its errors name lines of this text. */
export async function applyYaml (text) {
  return await send('POST', '/api/v1/apply', { type: 'application/yaml', text })
}

async function send (method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      accept: 'application/json',
      authorization: `Bearer ${session.token}`,
      ...(body !== undefined ? { 'content-type': body.type } : {})
    },
    ...(body !== undefined ? { body: body.text } : {})
  })
  const text = await res.text()
  let parsed
  try { parsed = text === '' ? undefined : JSON.parse(text) } catch { parsed = { message: text } }
  if (!res.ok) throw new ApiError(res.status, parsed)
  return parsed
}

export const API_VERSION = 'connectivity.iotoperations.azure.com/v1beta1'
export const enc = encodeURIComponent
export const resourcePath = (plural, namespace, name) => `/api/v1/namespaces/${enc(namespace)}/${plural}/${enc(name)}`
