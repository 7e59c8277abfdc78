import { isDeepStrictEqual } from 'node:util'
import { randomUUID } from 'node:crypto'
import type { ResourceKey, StoredResource } from './types.js'
import { FG_ERR_STORE_CONFLICT, FG_ERR_STORE_INVALID } from './errors.js'

/** Rules every backend shares: keys, preconditions, and how a write is stamped. */

export const DEFAULT_NAMESPACE = 'default'

export const keyString = (k: ResourceKey): string => JSON.stringify([k.kind, k.namespace, k.name])

export const describeKey = (k: ResourceKey): string => `${k.kind} ${k.namespace}/${k.name}`

/** The key of a resource given to put, checked (a store never holds a nameless or kindless object). */
export function keyOfResource (r: StoredResource): ResourceKey {
  if (typeof r !== 'object' || r === null) throw FG_ERR_STORE_INVALID('a resource must be an object')
  if (typeof r.kind !== 'string' || r.kind === '') throw FG_ERR_STORE_INVALID('a resource needs a kind')
  if (typeof r.metadata !== 'object' || r.metadata === null) throw FG_ERR_STORE_INVALID('a resource needs metadata')
  const { name, namespace } = r.metadata
  if (typeof name !== 'string' || name === '') throw FG_ERR_STORE_INVALID('a resource needs metadata.name')
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) throw FG_ERR_STORE_INVALID('metadata.namespace must be a non-empty string')
  return { kind: r.kind, namespace: namespace ?? DEFAULT_NAMESPACE, name }
}

export function checkKey (k: ResourceKey): ResourceKey {
  for (const f of ['kind', 'namespace', 'name'] as const) {
    if (typeof k?.[f] !== 'string' || k[f] === '') throw FG_ERR_STORE_INVALID(`a resource key needs ${f}`)
  }
  return k
}

/** resourceVersions are decimal strings of a store-wide counter; anything else is a client error. */
export function parseVersion (v: string, what = 'resourceVersion'): bigint {
  if (typeof v !== 'string' || !/^\d{1,19}$/.test(v)) throw FG_ERR_STORE_INVALID(`${what} ${JSON.stringify(v)} is not a resourceVersion of this store`)
  return BigInt(v)
}

/**
 * What the user asked for, whose change is a new generation: every top-level field but apiVersion, kind, metadata
 * and status — spec, and for Secret/ConfigMap type, data, stringData and the sealed envelope. Labels and
 * annotations are metadata and, as in Kubernetes, do not change the generation.
 */
function desired (r: StoredResource): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = r
  // A field present as `undefined` and an absent field are the same once stored as JSON.
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>
}

export function checkPrecondition (key: ResourceKey, expected: string | undefined, existing: StoredResource | undefined): void {
  if (expected === undefined) return
  if (existing?.metadata.resourceVersion !== expected) throw FG_ERR_STORE_CONFLICT(describeKey(key), expected, existing?.metadata.resourceVersion)
}

/**
 * The object as stored: resourceVersion assigned, generation bumped when the desired state changed,
 * creationTimestamp and uid kept across replaces. Status belongs to the runtime (setStatus): a write keeps the
 * stored status and ignores one in the body, as a Kubernetes status subresource does.
 */
export function stamp (incoming: StoredResource, key: ResourceKey, existing: StoredResource | undefined, resourceVersion: string, now = new Date()): StoredResource {
  const { status: _ignored, ...rest } = incoming
  const copy = JSON.parse(JSON.stringify(rest)) as StoredResource
  const generation = existing === undefined
    ? 1
    : (existing.metadata.generation ?? 1) + (isDeepStrictEqual(desired(copy), desired(existing)) ? 0 : 1)
  const stored: StoredResource = {
    ...copy,
    metadata: {
      ...copy.metadata,
      name: key.name,
      namespace: key.namespace,
      resourceVersion,
      generation,
      creationTimestamp: existing?.metadata.creationTimestamp ?? now.toISOString(),
      uid: existing?.metadata.uid ?? randomUUID()
    }
  }
  if (existing?.status !== undefined) stored.status = existing.status
  return stored
}

/** The DELETED event's object: the last stored state, carrying the deletion's own resourceVersion. */
export function tombstone (existing: StoredResource, resourceVersion: string): StoredResource {
  return { ...existing, metadata: { ...existing.metadata, resourceVersion } }
}

export function byNamespaceThenName (a: StoredResource, b: StoredResource): number {
  const an = a.metadata.namespace; const bn = b.metadata.namespace
  if (an !== bn) return an < bn ? -1 : 1
  const a1 = a.metadata.name; const b1 = b.metadata.name
  return a1 < b1 ? -1 : a1 > b1 ? 1 : 0
}
