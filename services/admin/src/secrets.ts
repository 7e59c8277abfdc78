import type { StoredResource } from '@flowgate/store'

/**
 * How Secret values are sealed before they reach the store (AES-256-GCM in @flowgate/store's secret cipher) and
 * opened again by the runtime. The admin API only ever seals, and compares opened values to tell "unchanged".
 */
export interface SecretCipher {
  /** The Secret with its `data` values replaced by their sealed form. */
  seal: (secret: StoredResource) => StoredResource
  /** The Secret with its `data` values back in plain base64. */
  open: (secret: StoredResource) => StoredResource
  /** The keys of a stored (sealed) Secret's data. */
  keys: (secret: StoredResource) => string[]
}
