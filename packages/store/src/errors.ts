/** Stable error codes of @flowgate/store; callers and tests act on `code` (and `statusCode`), never on texts. */
export type StoreErrorCode =
  | 'FG_ERR_STORE_CONFLICT'
  | 'FG_ERR_STORE_WATCH_EXPIRED'
  | 'FG_ERR_STORE_LOCKED'
  | 'FG_ERR_STORE_INVALID'
  | 'FG_ERR_STORE_CORRUPT'
  | 'FG_ERR_STORE_CLOSED'
  | 'FG_ERR_STORE_IO'
  | 'FG_ERR_STORE_UNAVAILABLE'
  | 'FG_ERR_STORE_UNSUPPORTED'
  | 'FG_ERR_SECRET_KEY_INVALID'
  | 'FG_ERR_SECRET_KEY_MISMATCH'
  | 'FG_ERR_SECRET_UNREADABLE'

export class StoreError extends Error {
  readonly code: StoreErrorCode
  /** The HTTP status the admin API answers with when this error reaches a request. */
  readonly statusCode: number

  constructor (code: StoreErrorCode, statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreError'
    this.code = code
    this.statusCode = statusCode
  }
}

export const isStoreError = (err: unknown, code?: StoreErrorCode): err is StoreError =>
  err instanceof StoreError && (code === undefined || err.code === code)

export const FG_ERR_STORE_CONFLICT = (what: string, expected: string, actual: string | undefined): StoreError =>
  new StoreError('FG_ERR_STORE_CONFLICT', 409, `${what} has resourceVersion ${actual ?? '(none: it does not exist)'}, not ${expected}: read it again and retry`)

export const FG_ERR_STORE_WATCH_EXPIRED = (from: string, oldest: string): StoreError =>
  new StoreError('FG_ERR_STORE_WATCH_EXPIRED', 410, `changes after resourceVersion ${from} are no longer kept (kept: after ${oldest}): list again and watch from the list's resourceVersion`)

export const FG_ERR_STORE_LOCKED = (dir: string, pid: number): StoreError =>
  new StoreError('FG_ERR_STORE_LOCKED', 423, `the store in ${dir} is in use by process ${pid}; stop it or choose another --data-dir`)

export const FG_ERR_STORE_INVALID = (message: string): StoreError =>
  new StoreError('FG_ERR_STORE_INVALID', 400, message)

export const FG_ERR_STORE_CORRUPT = (message: string, cause?: unknown): StoreError =>
  new StoreError('FG_ERR_STORE_CORRUPT', 500, message, { cause })

export const FG_ERR_STORE_CLOSED = (): StoreError =>
  new StoreError('FG_ERR_STORE_CLOSED', 503, 'the store is closed')

export const FG_ERR_STORE_IO = (message: string, cause?: unknown): StoreError =>
  new StoreError('FG_ERR_STORE_IO', 503, message, { cause })

export const FG_ERR_STORE_UNAVAILABLE = (message: string, cause?: unknown): StoreError =>
  new StoreError('FG_ERR_STORE_UNAVAILABLE', 503, message, { cause })

export const FG_ERR_STORE_UNSUPPORTED = (store: string): StoreError =>
  new StoreError('FG_ERR_STORE_UNSUPPORTED', 400, `--store ${JSON.stringify(store)}: expected "file" or a postgres:// URL`)

export const FG_ERR_SECRET_KEY_INVALID = (source: string): StoreError =>
  new StoreError('FG_ERR_SECRET_KEY_INVALID', 500, `${source} must hold a 32-byte key as base64 or as 64 hex digits`)

export const FG_ERR_SECRET_KEY_MISMATCH = (name: string): StoreError =>
  new StoreError('FG_ERR_SECRET_KEY_MISMATCH', 500, `Secret ${name} was sealed with another key than FLOWGATE_SECRET_KEY / secret.key holds`)

export const FG_ERR_SECRET_UNREADABLE = (name: string, cause?: unknown): StoreError =>
  new StoreError('FG_ERR_SECRET_UNREADABLE', 500, `Secret ${name}: its sealed values do not open (altered, or moved from another secret)`, { cause })
