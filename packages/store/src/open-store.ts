import type { Store } from './types.js'
import { openFileStore } from './file-store.js'
import { FG_ERR_STORE_UNSUPPORTED } from './errors.js'

/** `file` (the embedded default, in `<dataDir>/store`) or a `postgres://` URL (several admin replicas). */
export async function openStore ({ store, dataDir }: { store: string, dataDir: string }): Promise<Store> {
  if (store === 'file') return openFileStore(dataDir)
  if (/^postgres(ql)?:\/\//.test(store)) {
    const { openPostgresStore } = await import('./postgres-store.js' as string) as { openPostgresStore: (url: string) => Promise<Store> }
    return openPostgresStore(store)
  }
  throw FG_ERR_STORE_UNSUPPORTED(store)
}
