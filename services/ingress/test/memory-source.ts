import type { StoredResource } from '@flowgate/store'
import type { AccessSource } from '../src/access/source.js'

/** The store as the front door sees it, in memory: resources replaced with `set`, statuses recorded. */
export function memorySource (initial: StoredResource[]): AccessSource & { statuses: Map<string, any>, set: (items: StoredResource[]) => void } {
  let items = initial
  let version = 1
  const statuses = new Map<string, any>()
  const waiters = new Set<() => void>()
  const find = (kind: string, ns: string, name: string): StoredResource | undefined => items.find((r) => r.kind === kind && r.metadata.namespace === ns && r.metadata.name === name)
  return {
    statuses,
    set (next) { items = next; version++; for (const w of waiters) w() },
    list: async () => ({ items, resourceVersion: String(version) }),
    async * changes (_from, signal) {
      while (!signal.aborted) {
        await new Promise<void>((resolve) => { waiters.add(resolve); signal.addEventListener('abort', () => resolve()) })
        if (!signal.aborted) yield
      }
    },
    secret: async (ns, name) => {
      const s = find('Secret', ns, name) as { stringData?: Record<string, string> } | undefined
      return s === undefined ? undefined : Object.fromEntries(Object.entries(s.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v)]))
    },
    configMap: async (ns, name) => (find('ConfigMap', ns, name)?.data ?? undefined) as Record<string, string> | undefined,
    async putGeneratedSecret (namespace, name, data, annotations) {
      items = [...items.filter((r) => !(r.kind === 'Secret' && r.metadata.namespace === namespace && r.metadata.name === name)),
        { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, annotations }, type: 'kubernetes.io/tls', stringData: data }]
      version++
      for (const w of waiters) w()
    },
    setStatus: async (kind, ns, name, status) => { statuses.set(`${kind}/${ns}/${name}`, status) }
  }
}
