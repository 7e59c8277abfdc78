/** Every option of the translator service with its default, in one place. */
export interface TranslatorOptions {
  /** Interface the HTTP listener binds to. */
  host: string
  /** TCP port; 0 picks a free one. */
  port: number
  /** Largest request body in bytes (413 above it). Base64 makes payloads a third larger than they are. */
  bodyLimit: number
  /** Most messages in one request (413 above it): a batch is translated in one go, so this bounds the work per call. */
  maxMessages: number
}

export const translatorDefaults: TranslatorOptions = {
  host: '127.0.0.1',
  port: 8082,
  bodyLimit: 16 * 1024 * 1024,
  maxMessages: 10_000
}

/** Options of the shared request handling (fastify routes and the fetch handler alike). */
export interface HandlerOptions {
  bodyLimit: number
  maxMessages: number
  /** CloudEvents `id` generator; default `globalThis.crypto.randomUUID()`. Tests inject one to compare answers. */
  randomUUID?: () => string
}
