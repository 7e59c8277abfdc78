/** Options of the stores, with their defaults. */

export interface FileStoreTuning {
  /** Watch events kept (memory and disk) for `watch({fromResourceVersion})`; older versions answer 410. */
  changeLogLimit?: number
  /** A journal segment this large is closed with a snapshot; the next write opens a new one. */
  segmentBytes?: number
}

export interface PostgresStoreOptions {
  /** The schema holding the tables (created if missing), so Flowgate can share a database. */
  schema?: string
  /** Watch events kept in the changes table; older versions answer 410. */
  changeLogLimit?: number
  /** Pool size for reads and writes (a watch listener holds one more connection). */
  poolSize?: number
  /** Safety net against a lost NOTIFY (listener reconnecting): watchers also look every this many ms. */
  pollIntervalMs?: number
}

export const storeDefaults = {
  changeLogLimit: 10_000,
  segmentBytes: 4 * 1024 * 1024,
  schema: 'flowgate',
  poolSize: 4,
  pollIntervalMs: 5_000
} as const
