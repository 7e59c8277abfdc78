import type { Store } from './types.js'
import type { PostgresStoreOptions } from './options.js'
import { FG_ERR_STORE_UNAVAILABLE } from './errors.js'

export async function createPostgresStore (url: string, _options: PostgresStoreOptions = {}): Promise<Store> {
  throw FG_ERR_STORE_UNAVAILABLE(`PostgreSQL store not written yet (${new URL(url).host})`)
}
