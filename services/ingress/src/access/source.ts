import type { Store, StoredResource } from '@flowgate/store'

export const ACCESS_KINDS = new Set(['BrokerListener', 'BrokerAuthentication', 'BrokerAuthorization', 'Secret', 'ConfigMap'])

/**
 * What the front door reads and writes, over the resource store: the broker kinds, the Secrets and ConfigMaps they
 * name (Secret values opened), the certificates it issues for `tls.mode: Automatic`, and listener status.
 */
export interface AccessSource {
  list: () => Promise<{ items: StoredResource[], resourceVersion: string }>
  /** Resolves after any change to a kind the front door reads (or when `signal` aborts). */
  changes: (fromResourceVersion: string, signal: AbortSignal) => AsyncIterable<void>
  secret: (namespace: string, name: string) => Promise<Record<string, Buffer> | undefined>
  configMap: (namespace: string, name: string) => Promise<Record<string, string> | undefined>
  /** Stores (sealed) a `kubernetes.io/tls` Secret Flowgate generated. */
  putGeneratedSecret: (namespace: string, name: string, data: Record<string, string>, annotations: Record<string, string>) => Promise<void>
  setStatus: (kind: string, namespace: string, name: string, status: unknown) => Promise<void>
}

export interface SecretSealing {
  open: (stored: StoredResource) => StoredResource
  seal: (plain: StoredResource) => StoredResource
}

export function storeAccessSource (store: Store, sealing: SecretSealing): AccessSource {
  return {
    list: async () => {
      const listed = await store.list()
      return { items: listed.items.filter((r) => ACCESS_KINDS.has(r.kind)), resourceVersion: listed.resourceVersion }
    },
    async * changes (fromResourceVersion, signal) {
      for await (const event of store.watch({ fromResourceVersion, signal })) {
        if (ACCESS_KINDS.has(event.object.kind)) yield
      }
    },
    async secret (namespace, name) {
      const stored = await store.get({ kind: 'Secret', namespace, name })
      if (stored === undefined) return undefined
      const data = (sealing.open(stored).data ?? {}) as Record<string, string>
      return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]))
    },
    async configMap (namespace, name) {
      const stored = await store.get({ kind: 'ConfigMap', namespace, name })
      return stored === undefined ? undefined : (stored.data ?? {}) as Record<string, string>
    },
    async putGeneratedSecret (namespace, name, data, annotations) {
      const plain: StoredResource = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace, annotations },
        type: 'kubernetes.io/tls',
        data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
      }
      await store.put(sealing.seal(plain))
    },
    async setStatus (kind, namespace, name, status) {
      await store.setStatus({ kind, namespace, name }, status)
    }
  }
}
