/**
 * Errors of the translator service, each with a stable code and HTTP status (docs/CONVENTIONS.md). The body of an error
 * answer is `{code, message, errors?: [{path, message, allowed?}]}`; tests match on `code`, never on text.
 */
export interface FieldError { path: string, message: string, allowed?: unknown[] }

export class TranslatorError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly errors: FieldError[] | undefined
  constructor (code: string, statusCode: number, message: string, errors?: FieldError[]) {
    super(message)
    this.name = 'TranslatorError'
    this.code = code
    this.statusCode = statusCode
    this.errors = errors
  }

  toBody (): { code: string, message: string, errors?: FieldError[] } {
    return this.errors === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, errors: this.errors }
  }
}

// Request shape
export const FG_ERR_TRANSLATOR_VALIDATION = (errors: FieldError[]): TranslatorError =>
  new TranslatorError('FG_ERR_TRANSLATOR_VALIDATION', 400, `invalid request body: ${errors.length} error(s)`, errors)
export const FG_ERR_TRANSLATOR_BAD_JSON = (detail: string): TranslatorError =>
  new TranslatorError('FG_ERR_TRANSLATOR_BAD_JSON', 400, `the request body is not JSON: ${detail}`)
export const FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE = (type: string): TranslatorError =>
  new TranslatorError('FG_ERR_TRANSLATOR_UNSUPPORTED_MEDIA_TYPE', 415, `content type ${JSON.stringify(type)} is not supported: send application/json`)

// Limits
export const FG_ERR_TRANSLATOR_BODY_TOO_LARGE = (limit: number): TranslatorError =>
  new TranslatorError('FG_ERR_TRANSLATOR_BODY_TOO_LARGE', 413, `the request body is larger than ${limit} bytes: send fewer or smaller messages per request`)
export const FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES = (count: number, max: number): TranslatorError =>
  new TranslatorError('FG_ERR_TRANSLATOR_TOO_MANY_MESSAGES', 413, `${count} messages in one request; at most ${max} are accepted`)

// Routing
export const FG_ERR_TRANSLATOR_NOT_FOUND = (method: string, path: string): TranslatorError =>
  new TranslatorError('FG_ERR_TRANSLATOR_NOT_FOUND', 404, `no route ${method} ${path}: use POST /translate/v1/mqtt-to-kafka or POST /translate/v1/kafka-to-mqtt`)

// Everything else
export const FG_ERR_TRANSLATOR_INTERNAL = (): TranslatorError =>
  new TranslatorError('FG_ERR_TRANSLATOR_INTERNAL', 500, 'internal error while translating')
