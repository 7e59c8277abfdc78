import type { Store, StoredResource } from '@flowgate/store'
import type { ResourceReader } from './endpoint-secrets.js'
import { EgressError, FG_ERR_SECRET_UNAVAILABLE } from './errors.js'

/**
 * Endpoint Secrets and ConfigMaps read from the store. `openSecret` unseals a stored Secret (the store keeps them
 * sealed with FLOWGATE_SECRET_KEY); without it Secret values are not available here (the admin API store serves
 * none), and an endpoint that needs one fails with FG_ERR_SECRET_UNAVAILABLE.
 */
export function storeReader (store: Store, openSecret?: (stored: StoredResource) => StoredResource): ResourceReader {
  return {
    async secret (namespace, name) {
      if (openSecret === undefined) throw FG_ERR_SECRET_UNAVAILABLE(`Secret ${namespace}/${name}`, 'values are not served by the admin API; run the egress with --store')
      const stored = await store.get({ kind: 'Secret', namespace, name })
      if (!stored) throw new EgressError('FG_ERR_SECRET_MISSING', `Secret ${namespace}/${name} not found`)
      const data = (openSecret(stored).data ?? {}) as Record<string, string>
      return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]))
    },
    async configMap (namespace, name) {
      const stored = await store.get({ kind: 'ConfigMap', namespace, name })
      if (!stored) throw new EgressError('FG_ERR_CONFIGMAP_MISSING', `ConfigMap ${namespace}/${name} not found`)
      return (stored.data ?? {}) as Record<string, string>
    }
  }
}
