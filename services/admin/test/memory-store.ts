import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import type { SecretCipher } from '../src/index.js'
import type { PutOptions, PutResult, ResourceKey, Store, StoredResource, WatchEvent } from '../src/store-types.js'

/**
 * A small in-memory Store for the admin tests, following the contract of packages/store/src/types.ts
 * (resourceVersion strictly increasing, generation on spec/data change, putAll all or nothing).
 */
export class MemoryStore implements Store {
  private readonly items = new Map<string, StoredResource>()
  private version = 0
  private readonly listeners = new Set<(e: WatchEvent) => void>()

  private static key (k: ResourceKey): string { return `${k.kind}/${k.namespace}/${k.name}` }

  async get (key: ResourceKey): Promise<StoredResource | undefined> {
    const r = this.items.get(MemoryStore.key(key))
    return r === undefined ? undefined : structuredClone(r)
  }

  async list (filter: { kind?: string, namespace?: string } = {}): Promise<{ items: StoredResource[], resourceVersion: string }> {
    const items = [...this.items.values()]
      .filter((r) => (filter.kind === undefined || r.kind === filter.kind) && (filter.namespace === undefined || r.metadata.namespace === filter.namespace))
      .sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name))
    return { items: structuredClone(items), resourceVersion: String(this.version) }
  }

  private check (resource: StoredResource, options?: PutOptions): void {
    const current = this.items.get(MemoryStore.key({ kind: resource.kind, ...resource.metadata }))
    if (options?.expectedResourceVersion !== undefined && current?.metadata.resourceVersion !== options.expectedResourceVersion) {
      throw Object.assign(new Error(`resourceVersion ${options.expectedResourceVersion} does not match`), { code: 'FG_ERR_STORE_CONFLICT' })
    }
  }

  private write (resource: StoredResource): PutResult {
    const k = MemoryStore.key({ kind: resource.kind, ...resource.metadata })
    const current = this.items.get(k)
    const payload = (r: StoredResource): unknown => [r.spec, r.data, r.type]
    const generation = current === undefined ? 1 : (current.metadata.generation ?? 1) + (isDeepStrictEqual(payload(current), payload(resource)) ? 0 : 1)
    const stored: StoredResource = structuredClone({
      ...resource,
      ...(current?.status !== undefined ? { status: current.status } : {}),
      metadata: {
        ...resource.metadata,
        resourceVersion: String(++this.version),
        generation,
        creationTimestamp: current?.metadata.creationTimestamp ?? new Date().toISOString(),
        uid: current?.metadata.uid ?? randomBytes(8).toString('hex')
      }
    })
    this.items.set(k, stored)
    for (const l of this.listeners) l({ type: current === undefined ? 'ADDED' : 'MODIFIED', object: structuredClone(stored) })
    return { resource: structuredClone(stored), created: current === undefined }
  }

  async put (resource: StoredResource, options?: PutOptions): Promise<PutResult> {
    this.check(resource, options)
    return this.write(resource)
  }

  async putAll (resources: Array<{ resource: StoredResource, options?: PutOptions }>): Promise<PutResult[]> {
    for (const { resource, options } of resources) this.check(resource, options)
    return resources.map(({ resource }) => this.write(resource))
  }

  async delete (key: ResourceKey, options?: PutOptions): Promise<StoredResource | undefined> {
    const k = MemoryStore.key(key)
    const current = this.items.get(k)
    if (current === undefined) return undefined
    if (options?.expectedResourceVersion !== undefined && current.metadata.resourceVersion !== options.expectedResourceVersion) {
      throw Object.assign(new Error('resourceVersion does not match'), { code: 'FG_ERR_STORE_CONFLICT' })
    }
    this.items.delete(k)
    this.version++
    for (const l of this.listeners) l({ type: 'DELETED', object: structuredClone(current) })
    return structuredClone(current)
  }

  async setStatus (key: ResourceKey, status: unknown): Promise<void> {
    const r = this.items.get(MemoryStore.key(key))
    if (r !== undefined) r.status = structuredClone(status)
  }

  async * watch (): AsyncIterable<WatchEvent> {
    // Not needed by the admin tests.
  }

  async close (): Promise<void> {}

  /** The raw stored form, for tests that look for plaintext where it must not be. */
  dump (): string {
    return JSON.stringify([...this.items.values()])
  }
}

/** AES-256-GCM over each data value, standing in for @flowgate/store's cipher until the admin tests use it. */
export function testCipher (key = randomBytes(32)): SecretCipher {
  const sealValue = (v: string): string => {
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', key, iv)
    const body = Buffer.concat([c.update(Buffer.from(v, 'base64')), c.final()])
    return `sealed:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`
  }
  const openValue = (v: string): string => {
    const raw = Buffer.from(v.slice('sealed:'.length), 'base64')
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    d.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('base64')
  }
  const map = (s: StoredResource, f: (v: string) => string): StoredResource =>
    ({ ...s, data: Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, f(v)])) })
  return { seal: (s) => map(s, sealValue), open: (s) => map(s, openValue), keys: (s) => Object.keys(s.data ?? {}) }
}
