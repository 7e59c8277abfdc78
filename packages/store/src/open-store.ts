import type { Store } from './types.js'
import { openFileStore } from './file-store.js'
import { createPostgresStore } from './postgres-store.js'
import { FG_ERR_STORE_UNSUPPORTED } from './errors.js'

export interface OpenStoreOptions {
  /** `file` (the embedded default, in `<dataDir>/store`) or a `postgres://` / `postgresql://` URL. */
  store?: string
  dataDir: string
}

/** The store `--store` names: the embedded file store by default, PostgreSQL for several admin replicas. */
export async function openStore ({ store = 'file', dataDir }: OpenStoreOptions): Promise<Store> {
  if (store === 'file' || store === '') return await openFileStore(dataDir)
  if (/^postgres(ql)?:\/\//i.test(store)) {
    return await createPostgresStore(store)
  }
  throw FG_ERR_STORE_UNSUPPORTED(store)
}
