/** Store errors with stable codes and the HTTP status the admin API answers with. */
export class StoreError extends Error {
  readonly code: string
  readonly statusCode: number
  constructor (code: string, statusCode: number, message: string) {
    super(message)
    this.name = 'StoreError'
    this.code = code
    this.statusCode = statusCode
  }
}

export const FG_ERR_STORE_CONFLICT = (what: string, expected: string, actual: string | undefined): StoreError =>
  new StoreError('FG_ERR_STORE_CONFLICT', 409, `${what} has resourceVersion ${actual ?? '(none: it does not exist)'}, not ${expected}: read it again and retry`)
export const FG_ERR_STORE_WATCH_EXPIRED = (from: string, oldest: string): StoreError =>
  new StoreError('FG_ERR_STORE_WATCH_EXPIRED', 410, `changes after resourceVersion ${from} are no longer kept (oldest kept: ${oldest}): list again`)
export const FG_ERR_STORE_LOCKED = (dir: string, pid: number): StoreError =>
  new StoreError('FG_ERR_STORE_LOCKED', 409, `the store in ${dir} is in use by process ${pid}; stop it or choose another --data-dir`)
export const FG_ERR_STORE_UNSUPPORTED = (store: string): StoreError =>
  new StoreError('FG_ERR_STORE_UNSUPPORTED', 400, `--store ${JSON.stringify(store)}: expected "file" or a postgres:// URL`)
export const FG_ERR_SECRET_KEY_INVALID = (variable: string): StoreError =>
  new StoreError('FG_ERR_SECRET_KEY_INVALID', 500, `${variable} must be 32 bytes as base64 or 64 hex digits`)
