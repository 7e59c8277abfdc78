/**
 * The translator as a Web-standard handler, `(Request) => Promise<Response>`: the same limits, validation and
 * translation as the fastify routes (translate-request.ts), without fastify and without Node APIs, so it can be
 * deployed as a function (Deno, Bun, a service worker; anything with Request/Response and `new Function` for ajv).
 */
import {
  FG_ERR_TRANSLATOR_BAD_JSON, FG_ERR_TRANSLATOR_BODY_TOO_LARGE, FG_ERR_TRANSLATOR_NOT_FOUND,
  FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE
} from './errors.js'
import { translatorDefaults, type HandlerOptions } from './options.js'
import { ROUTES, type Route } from './schemas.js'
import { answerTranslate, errorAnswer, type Answer } from './translate-request.js'

const byPath = new Map(Object.entries(ROUTES).map(([route, r]) => [r.path, route as Route]))

export function createFetchHandler (opts: Partial<HandlerOptions> = {}): (request: Request) => Promise<Response> {
  const options: HandlerOptions = { bodyLimit: opts.bodyLimit ?? translatorDefaults.bodyLimit, maxMessages: opts.maxMessages ?? translatorDefaults.maxMessages, ...(opts.randomUUID !== undefined ? { randomUUID: opts.randomUUID } : {}) }
  return async (request) => respond(await answer(request, options))
}

async function answer (request: Request, options: HandlerOptions): Promise<Answer> {
  try {
    const path = new URL(request.url).pathname
    const route = byPath.get(path)
    if (route === undefined || request.method !== 'POST') throw FG_ERR_TRANSLATOR_NOT_FOUND(request.method, path)
    const text = await readText(request, options.bodyLimit)
    const contentType = request.headers.get('content-type')
    let body: unknown
    if (contentType === null) {
      if (text !== '') throw FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE('')
    } else {
      if (mediaType(contentType) !== 'application/json') throw FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE(contentType)
      if (text === '') throw FG_ERR_TRANSLATOR_BAD_JSON('the body is empty')
      try {
        body = JSON.parse(text)
      } catch (err) {
        throw FG_ERR_TRANSLATOR_BAD_JSON((err as Error).message)
      }
    }
    return answerTranslate(route, body, options)
  } catch (err) {
    return errorAnswer(err)
  }
}

function mediaType (contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase()
}

/** The body as text, refusing more than `limit` bytes without reading them all (a declared length is checked first). */
async function readText (request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw FG_ERR_TRANSLATOR_BODY_TOO_LARGE(limit)
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel()
      throw FG_ERR_TRANSLATOR_BODY_TOO_LARGE(limit)
    }
    chunks.push(value)
  }
  const all = new Uint8Array(total)
  let at = 0
  for (const c of chunks) { all.set(c, at); at += c.byteLength }
  return new TextDecoder().decode(all)
}

function respond (a: Answer): Response {
  return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json; charset=utf-8' } })
}
