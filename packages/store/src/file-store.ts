import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { PutOptions, PutResult, ResourceKey, Store, StoredResource, WatchEvent, WatchOptions } from './types.js'
import { writeFileAtomic, readJsonIfExists } from './atomic-file.js'
import { ChangeLog } from './change-log.js'
import { FG_ERR_STORE_LOCKED } from './errors.js'
import { stamp, checkPrecondition, keyOf } from './versioning.js'

interface Snapshot {
  resourceVersion: string
  resources: StoredResource[]
  changes: WatchEvent[]
}

const CHANGES_KEPT = 1000
const openDirs = new Set<string>()

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

/**
 * The embedded store: the whole configuration in one JSON file, replaced atomically on every write, so a crash or
 * SIGKILL leaves the previous or the next state and nothing in between. Configuration is small (hundreds of
 * resources) and written rarely; one file keeps `putAll` atomic for free. One process owns a data directory
 * (a lock file with its pid); status is kept in memory and written with the next change or within a second.
 */
export async function openFileStore (dataDir: string): Promise<Store> {
  const dir = resolve(dataDir, 'store')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const lockPath = join(dir, 'lock')
  const holder = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim())
  if (openDirs.has(dir) || (holder && holder !== process.pid && alive(holder))) throw FG_ERR_STORE_LOCKED(dir, holder || process.pid)
  await writeFile(lockPath, String(process.pid), { mode: 0o600 })
  openDirs.add(dir)

  const statePath = join(dir, 'resources.json')
  const snapshot = await readJsonIfExists<Snapshot>(statePath) ?? { resourceVersion: '0', resources: [], changes: [] }
  const resources = new Map(snapshot.resources.map((r) => [keyOf(r.kind, r.metadata.namespace, r.metadata.name), r]))
  let version = BigInt(snapshot.resourceVersion)
  const log = new ChangeLog(CHANGES_KEPT, snapshot.changes, snapshot.changes[0] ? String(BigInt(snapshot.changes[0].object.metadata.resourceVersion ?? '1') - 1n) : snapshot.resourceVersion)
  let chain: Promise<unknown> = Promise.resolve()
  let statusTimer: NodeJS.Timeout | undefined
  let closed = false

  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work)
    chain = next.catch(() => {})
    return next
  }
  const persist = (): Promise<void> => writeFileAtomic(statePath, JSON.stringify({ resourceVersion: String(version), resources: [...resources.values()], changes: log.recent } satisfies Snapshot))
  const describe = (k: ResourceKey): string => `${k.kind} ${k.namespace}/${k.name}`

  function applyPut (resource: StoredResource, options: PutOptions | undefined): { result: PutResult, event: WatchEvent } {
    const key = keyOf(resource.kind, resource.metadata.namespace, resource.metadata.name)
    const existing = resources.get(key)
    checkPrecondition(describe({ kind: resource.kind, ...resource.metadata }), options?.expectedResourceVersion, existing)
    version++
    const stored = stamp(resource, existing, String(version))
    resources.set(key, stored)
    return { result: { resource: structuredClone(stored), created: existing === undefined }, event: { type: existing ? 'MODIFIED' : 'ADDED', object: structuredClone(stored) } }
  }

  return {
    async get (k) {
      const r = resources.get(keyOf(k.kind, k.namespace, k.name))
      return r && structuredClone(r)
    },
    async list (filter = {}) {
      const items = [...resources.values()]
        .filter((r) => (filter.kind === undefined || r.kind === filter.kind) && (filter.namespace === undefined || r.metadata.namespace === filter.namespace))
        .sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name))
      return { items: structuredClone(items), resourceVersion: String(version) }
    },
    put: (resource, options) => serial(async () => {
      const before = new Map(resources); const v = version
      try {
        const { result, event } = applyPut(resource, options)
        await persist()
        log.append(event)
        return result
      } catch (err) { resources.clear(); for (const [k, r] of before) resources.set(k, r); version = v; throw err }
    }),
    putAll: (batch) => serial(async () => {
      const before = new Map(resources); const v = version
      try {
        const done = batch.map(({ resource, options }) => applyPut(resource, options))
        await persist()
        for (const { event } of done) log.append(event)
        return done.map((d) => d.result)
      } catch (err) { resources.clear(); for (const [k, r] of before) resources.set(k, r); version = v; throw err }
    }),
    delete: (k, options) => serial(async () => {
      const key = keyOf(k.kind, k.namespace, k.name)
      const existing = resources.get(key)
      if (existing === undefined && options?.expectedResourceVersion === undefined) return undefined
      checkPrecondition(describe(k), options?.expectedResourceVersion, existing)
      if (existing === undefined) return undefined
      resources.delete(key)
      version++
      try { await persist() } catch (err) { resources.set(key, existing); version--; throw err }
      const gone = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(version) } }
      log.append({ type: 'DELETED', object: structuredClone(gone) })
      return structuredClone(existing)
    }),
    async setStatus (k, status) {
      const r = resources.get(keyOf(k.kind, k.namespace, k.name))
      if (r === undefined) return
      r.status = structuredClone(status)
      statusTimer ??= setTimeout(() => { statusTimer = undefined; if (!closed) void serial(persist) }, 1000)
    },
    watch: (options?: WatchOptions) => log.watch(options),
    async close () {
      if (closed) return
      closed = true
      clearTimeout(statusTimer)
      await serial(persist)
      openDirs.delete(dir)
      await writeFile(lockPath, '')
    }
  }
}
