import type { Logger } from 'pino'
import { builtinResources } from '@flowgate/resources'
import { AdminError } from './errors.js'
import type { SecretCipher } from './secrets.js'
import type { Store } from './store-types.js'
import { loadAdminToken } from './token.js'

export interface AdminStateOptions {
  dataDir: string
  /** An open store; else one is opened from `FLOWGATE_STORE` (`file` or a postgres:// URL) in dataDir. */
  store?: Store
  /** The Secret cipher; else @flowgate/store's AES-256-GCM cipher with the key of dataDir / FLOWGATE_SECRET_KEY. */
  cipher?: SecretCipher
  env?: NodeJS.ProcessEnv
  logger?: Logger
  /** The embedded broker as the `default` endpoint names it. */
  mqttHost?: string
}

export interface AdminState {
  store: Store
  cipher: SecretCipher
  token: string
  close: () => Promise<void>
}

/**
 * Everything the admin plugin needs, ready: the store opened and, when empty, seeded with the built-ins (the
 * `default` MQTT endpoint and profile), the token loaded or generated, the Secret key loaded or generated.
 */
export async function openAdminState (opts: AdminStateOptions): Promise<AdminState> {
  const env = opts.env ?? process.env
  const ownsStore = opts.store === undefined
  const storeModule = (opts.store === undefined || opts.cipher === undefined) ? await loadStoreModule() : undefined
  const store: Store = opts.store ?? await storeModule.openStore({ store: env.FLOWGATE_STORE ?? 'file', dataDir: opts.dataDir })
  try {
    const cipher = opts.cipher ?? await storeCipher(storeModule, opts.dataDir, env)
    const { items } = await store.list()
    if (items.length === 0) {
      await store.putAll(builtinResources(opts.mqttHost === undefined ? {} : { mqttHost: opts.mqttHost }).map((r) => ({ resource: r as never })))
      opts.logger?.info('store seeded with the default MQTT endpoint and the default dataflow profile')
    }
    const { token } = await loadAdminToken(opts.dataDir, env, opts.logger)
    return { store, cipher, token, close: async () => { if (ownsStore) await store.close() } }
  } catch (err) {
    if (ownsStore) await store.close()
    throw err
  }
}

// @flowgate/store's cipher and openStore are being written beside this package; reached by name at run time so
// that this package type-checks before they land. Their shapes: see packages/store/src/secret-cipher.ts.
async function loadStoreModule (): Promise<any> {
  const mod: any = await import('@flowgate/store')
  if (typeof mod.openStore !== 'function') throw new AdminError('FG_ERR_STORE_UNAVAILABLE', 500, '@flowgate/store has no openStore yet')
  return mod
}

async function storeCipher (mod: any, dataDir: string, env: NodeJS.ProcessEnv): Promise<SecretCipher> {
  const key = await mod.loadSecretKey({ dataDir, env })
  return {
    seal: (s) => mod.sealSecret(s, key),
    open: (s) => mod.openSecret(s, key),
    keys: (s) => mod.secretKeys(s)
  }
}
