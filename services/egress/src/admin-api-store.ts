import type { Logger } from 'pino'
import type { Store, StoredResource, WatchEvent } from '@flowgate/store'
import { EgressError } from './errors.js'

const KINDS = ['dataflowendpoints', 'dataflows', 'dataflowprofiles', 'configmaps'] as const
/** The kinds whose status the runtime writes, by their path segment. */
const PLURALS: Record<string, string> = { Dataflow: 'dataflows', DataflowEndpoint: 'dataflowendpoints' }

/**
 * A Store over the admin REST API, read-only but for statuses: list = one GET per kind, watch = a poll that diffs
 * resource versions, setStatus = the status route.
 * For a single host without PostgreSQL (the file store has one writer: the admin). Secret values never leave the
 * admin API, so endpoints that need them fail with FG_ERR_SECRET_UNAVAILABLE in this mode.
 */
export function adminApiStore (server: string, token: string | undefined, log: Logger, pollMs = 1000): Store {
  const base = server.replace(/\/+$/, '')
  async function all (): Promise<StoredResource[]> {
    const lists = await Promise.all(KINDS.map(async (kind) => {
      const res = await fetch(`${base}/api/v1/${kind}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
      if (!res.ok) throw new EgressError('FG_ERR_ADMIN_UNAVAILABLE', `admin API answered ${res.status} for ${kind}`, { permanent: false })
      return ((await res.json()) as { items: StoredResource[] }).items
    }))
    return lists.flat()
  }
  const keyOf = (r: StoredResource): string => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`
  const readOnly = async (): Promise<never> => { throw new EgressError('FG_ERR_STORE_READ_ONLY', 'the admin API store is read-only') }
  return {
    async get (key) { return (await all()).find((r) => r.kind === key.kind && r.metadata.namespace === key.namespace && r.metadata.name === key.name) },
    async list () { return { items: await all(), resourceVersion: '0' } },
    put: readOnly,
    putAll: readOnly,
    delete: readOnly,
    // Statuses go back through the admin API's status route, so `flowgate get dataflows` shows this runtime's view.
    async setStatus (key, status, options) {
      const kind = PLURALS[key.kind]
      if (kind === undefined) return
      const writer = options?.writer !== undefined ? `?writer=${encodeURIComponent(options.writer)}` : ''
      const res = await fetch(`${base}/api/v1/namespaces/${encodeURIComponent(key.namespace)}/${kind}/${encodeURIComponent(key.name)}/status${writer}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(status)
      })
      await res.body?.cancel()
      if (!res.ok) throw new EgressError('FG_ERR_ADMIN_UNAVAILABLE', `admin API answered ${res.status} to a status write for ${key.kind} ${key.namespace}/${key.name}`, { permanent: false })
    },
    async * watch (opts = {}) {
      let seen = new Map((await all()).map((r) => [keyOf(r), r]))
      while (opts.signal?.aborted !== true) {
        await new Promise((resolve) => setTimeout(resolve, pollMs))
        let now: Map<string, StoredResource>
        try { now = new Map((await all()).map((r) => [keyOf(r), r])) } catch (err) { log.warn({ err: (err as Error).message }, 'admin API poll failed'); continue }
        const events: WatchEvent[] = []
        for (const [k, r] of now) {
          const before = seen.get(k)
          if (before === undefined) events.push({ type: 'ADDED', object: r })
          else if (before.metadata.resourceVersion !== r.metadata.resourceVersion) events.push({ type: 'MODIFIED', object: r })
        }
        for (const [k, r] of seen) if (!now.has(k)) events.push({ type: 'DELETED', object: r })
        seen = now
        yield * events
      }
    },
    async close () {}
  }
}
