/**
 * The translator as an ES module Worker (Cloudflare Workers / workerd; Deno serves the same module through
 * deno-serve.mjs): `export default { fetch }` over the Web fetch handler. The limits come from the Worker's
 * environment (text bindings / vars), defaults as `flowgate translator`'s. Bundled by edge/build.ts with the
 * validators compiled ahead of time: nothing here or below uses a Node API or generates code.
 */
import { createFetchHandler } from '../src/fetch-handler.js'
import { translatorDefaults, type HandlerOptions } from '../src/options.js'

/** Unset is the default (workerd's `fromEnvironment` binding gives null for an unset variable). */
export interface TranslatorEnv {
  /** Largest request body in bytes (413 above it); default 16 MiB. */
  FLOWGATE_TRANSLATOR_BODY_LIMIT?: string | null
  /** Most messages in one request (413 above it); default 10,000. */
  FLOWGATE_TRANSLATOR_MAX_MESSAGES?: string | null
}

export function handlerOptions (env: TranslatorEnv = {}): HandlerOptions {
  return {
    bodyLimit: positiveInteger(env.FLOWGATE_TRANSLATOR_BODY_LIMIT, translatorDefaults.bodyLimit),
    maxMessages: positiveInteger(env.FLOWGATE_TRANSLATOR_MAX_MESSAGES, translatorDefaults.maxMessages)
  }
}

function positiveInteger (text: string | null | undefined, fallback: number): number {
  if (text === undefined || text === null || text === '') return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${JSON.stringify(text)}`)
  return n
}

// The environment is the same for every request of one isolate: one handler, made on the first request.
let made: { env: TranslatorEnv | undefined, handler: (request: Request) => Promise<Response> } | undefined

export default {
  async fetch (request: Request, env?: TranslatorEnv): Promise<Response> {
    if (made === undefined || made.env !== env) made = { env, handler: createFetchHandler(handlerOptions(env)) }
    return made.handler(request)
  }
}
