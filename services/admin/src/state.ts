import type { Logger } from 'pino'
import { builtinResources } from '@flowgate/resources'
import { loadSecretKey, openSecret, openStore, sealSecret, secretKeys } from '@flowgate/store'
import type { SecretCipher } from './secrets.js'
import type { Store } from '@flowgate/store'
import { loadAdminToken, type TokenTerminal } from './token.js'

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
  /** Where a newly generated admin token is shown, if it is a TTY (default: stderr); never the logger. */
  terminal?: TokenTerminal
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
  const store: Store = opts.store ?? await openStore({ store: env.FLOWGATE_STORE ?? 'file', dataDir: opts.dataDir })
  try {
    const cipher = opts.cipher ?? await storeCipher(opts.dataDir, env)
    const { items } = await store.list()
    if (items.length === 0) {
      await store.putAll(builtinResources(opts.mqttHost === undefined ? {} : { mqttHost: opts.mqttHost }).map((r) => ({ resource: r as never })))
      opts.logger?.info('store seeded with the default MQTT endpoint and the default dataflow profile')
    }
    const { token } = await loadAdminToken(opts.dataDir, env, opts.logger, opts.terminal)
    return { store, cipher, token, close: async () => { if (ownsStore) await store.close() } }
  } catch (err) {
    if (ownsStore) await store.close()
    throw err
  }
}

/** @flowgate/store's AES-256-GCM sealing with the key of FLOWGATE_SECRET_KEY or `<dataDir>/secret.key`. */
async function storeCipher (dataDir: string, env: NodeJS.ProcessEnv): Promise<SecretCipher> {
  const key = await loadSecretKey({ dataDir, env })
  return {
    seal: (s) => sealSecret(s, key),
    open: (s) => openSecret(s, key),
    keys: (s) => secretKeys(s)
  }
}
