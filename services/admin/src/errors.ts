/**
 * Every error the admin API answers with (DESIGN §3): a stable code, an HTTP status, and for validation the list of
 * offending paths. Tests assert on codes.
 */

export interface FieldError {
  path: string
  message: string
  allowed?: readonly unknown[]
  /** POST /apply: which document of the request, and its line when the body was YAML. */
  document?: number
  resource?: string
  line?: number
}

export class AdminError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly errors?: FieldError[]
  readonly details?: Record<string, unknown>
  constructor (code: string, statusCode: number, message: string, errors?: FieldError[], details?: Record<string, unknown>) {
    super(message)
    this.name = 'AdminError'
    this.code = code
    this.statusCode = statusCode
    if (errors !== undefined) this.errors = errors
    if (details !== undefined) this.details = details
  }

  toJSON (): Record<string, unknown> {
    return { code: this.code, message: this.message, ...(this.errors ? { errors: this.errors } : {}), ...this.details }
  }
}

// Authentication
export const FG_ERR_UNAUTHORIZED = (): AdminError =>
  new AdminError('FG_ERR_UNAUTHORIZED', 401, 'missing or wrong bearer token (Authorization: Bearer <token>)')

// Requests
export const FG_ERR_UNKNOWN_KIND = (kind: string, allowed: string[]): AdminError =>
  new AdminError('FG_ERR_UNKNOWN_KIND', 404, `unknown kind ${JSON.stringify(kind)}`, undefined, { allowed })
export const FG_ERR_ROUTE_NOT_FOUND = (method: string, url: string): AdminError =>
  new AdminError('FG_ERR_ROUTE_NOT_FOUND', 404, `no route ${method} ${url}`)
export const FG_ERR_NOT_FOUND = (kind: string, namespace: string, name: string): AdminError =>
  new AdminError('FG_ERR_NOT_FOUND', 404, `${kind.toLowerCase()}/${name} not found in namespace ${namespace}`)
export const FG_ERR_MANIFEST_SYNTAX = (message: string, line?: number, col?: number): AdminError =>
  new AdminError('FG_ERR_MANIFEST_SYNTAX', 400, message, undefined, line === undefined ? undefined : { line, col })
export const FG_ERR_BODY = (message: string): AdminError => new AdminError('FG_ERR_BODY', 400, message)

// Validation
export const FG_ERR_VALIDATION = (errors: FieldError[]): AdminError =>
  new AdminError('FG_ERR_VALIDATION', 400, `invalid resource: ${errors.length} error${errors.length === 1 ? '' : 's'}`, errors)
export const FG_ERR_NAME_MISMATCH = (errors: FieldError[]): AdminError =>
  new AdminError('FG_ERR_VALIDATION', 400, 'the body names another resource than the path', errors)
export const FG_ERR_REDACTED_SECRET = (name: string): AdminError =>
  new AdminError('FG_ERR_REDACTED_SECRET', 400, `secret/${name} is a redacted read (its values are empty): give the values in data or stringData`)

// References
export const FG_ERR_DANGLING_REFERENCE = (message: string, errors: FieldError[], references: string[]): AdminError =>
  new AdminError('FG_ERR_DANGLING_REFERENCE', 422, message, errors, { references })
export const FG_ERR_REFERENCE_MISMATCH = (message: string, errors: FieldError[], references: string[]): AdminError =>
  new AdminError('FG_ERR_REFERENCE_MISMATCH', 422, message, errors, { references })
export const FG_ERR_TOPIC_LOOP = (message: string, errors: FieldError[], dataflows: string[]): AdminError =>
  new AdminError('FG_ERR_TOPIC_LOOP', 422, message, errors, { dataflows })

// Concurrency and deletion
export const FG_ERR_CONFLICT = (message: string): AdminError => new AdminError('FG_ERR_CONFLICT', 409, message)
export const FG_ERR_REFERENCED = (target: string, referrers: string[]): AdminError =>
  new AdminError('FG_ERR_REFERENCED', 409, `${target} is still referred to by ${referrers.join(', ')}`, undefined, { referrers })
