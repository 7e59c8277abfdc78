import type { Store, StoredResource } from '@flowgate/store'

const BUILTIN = 'flowgate.dev/builtin'

/**
 * The split deployment's view of the store: the built-in `default` MQTT endpoint means "Flowgate's own broker",
 * which here is the ingress at `ingressHost` (the egress' --mqtt), reached over the network — so that endpoint is
 * handed to the runtime as a plain MQTT endpoint at the ingress' address (the runtime would otherwise look for the
 * broker in process). Only the address changes: TLS and credentials stay the endpoint's.
 */
export function ingressView (store: Store, ingressHost: string): Store {
  const map = (r: StoredResource): StoredResource => {
    if (r.kind !== 'DataflowEndpoint' || r.metadata.annotations?.[BUILTIN] !== 'true') return r
    const { [BUILTIN]: _builtin, ...annotations } = r.metadata.annotations
    const spec = r.spec as { mqttSettings?: Record<string, unknown> }
    return { ...r, metadata: { ...r.metadata, annotations }, spec: { ...spec, mqttSettings: { ...spec.mqttSettings, host: ingressHost } } }
  }
  // Delegation spelled out: a store may be a class instance, whose methods a spread would not copy.
  return {
    put: (resource, options) => store.put(resource, options),
    putAll: (items) => store.putAll(items),
    delete: (key, options) => store.delete(key, options),
    setStatus: (key, status, options) => store.setStatus(key, status, options),
    close: () => store.close(),
    get: async (key) => { const r = await store.get(key); return r && map(r) },
    list: async (filter) => { const l = await store.list(filter); return { ...l, items: l.items.map(map) } },
    async * watch (opts) { for await (const e of store.watch(opts)) yield { ...e, object: map(e.object) } }
  }
}
