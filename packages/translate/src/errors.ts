/**
 * Errors of @flowgate/translate, with stable codes (docs/CONVENTIONS.md). Message contents never throw (a bad message
 * is a drop with a reason); only settings or a context the caller got wrong do.
 */
export class TranslateError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = 'TranslateError'
    this.code = code
  }
}

export const FG_ERR_TRANSLATE_SETTINGS = (detail: string): TranslateError =>
  new TranslateError('FG_ERR_TRANSLATE_SETTINGS', `invalid translation settings: ${detail}`)

export const FG_ERR_TRANSLATE_CONTEXT = (detail: string): TranslateError =>
  new TranslateError('FG_ERR_TRANSLATE_CONTEXT', `invalid translation context: ${detail}`)
