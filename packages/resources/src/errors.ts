/** Errors of the resource model, with stable codes (docs/CONVENTIONS.md). */

export class ResourceError extends Error {
  readonly code: string
  readonly statusCode: number
  constructor (code: string, message: string, statusCode: number) {
    super(message)
    this.name = 'ResourceError'
    this.code = code
    this.statusCode = statusCode
  }
}

/** A manifest that is not JSON or YAML; the message starts with `file:line:col:`. */
export class ManifestSyntaxError extends ResourceError {
  readonly filename: string
  readonly line: number
  readonly col: number
  constructor (filename: string, line: number, col: number, detail: string) {
    super('FG_ERR_MANIFEST_SYNTAX', `${filename}:${line}:${col}: ${detail}`, 400)
    this.filename = filename
    this.line = line
    this.col = col
  }
}
