// What other packages use; the package's own tests import the modules they test.
export type { Store, StoredResource, WatchEvent } from './types.js'
export { openStore } from './open-store.js'
export { openFileStore } from './file-store.js'
export { loadSecretKey, sealSecret, openSecret, secretKeys } from './secret-cipher.js'
export { isStatusParts } from './status-parts.js'
