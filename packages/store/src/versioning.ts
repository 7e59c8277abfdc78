import { isDeepStrictEqual } from 'node:util'
import { randomUUID } from 'node:crypto'
import type { StoredResource } from './types.js'
import { FG_ERR_STORE_CONFLICT } from './errors.js'

/** The fields whose change is a new generation (what the user asked for, not what the runtime observed). */
function desired (r: StoredResource | undefined): unknown {
  if (r === undefined) return undefined
  return { spec: r.spec, data: r.data, sealed: r.sealed, type: r.type, labels: r.metadata.labels, annotations: r.metadata.annotations }
}

/** Stamps a write: resourceVersion, generation, creationTimestamp, uid — the same rules for every backend. */
export function stamp (incoming: StoredResource, existing: StoredResource | undefined, resourceVersion: string, now = new Date()): StoredResource {
  const changed = !isDeepStrictEqual(desired(incoming), desired(existing))
  const generation = existing === undefined ? 1 : (existing.metadata.generation ?? 1) + (changed ? 1 : 0)
  const { status: _ignored, ...rest } = incoming
  return {
    ...rest,
    metadata: {
      ...incoming.metadata,
      resourceVersion,
      generation,
      creationTimestamp: existing?.metadata.creationTimestamp ?? now.toISOString(),
      uid: existing?.metadata.uid ?? randomUUID()
    },
    // Status is the runtime's (setStatus): a user's write never replaces it.
    ...(existing?.status !== undefined ? { status: existing.status } : {})
  }
}

export function checkPrecondition (what: string, expected: string | undefined, existing: StoredResource | undefined): void {
  if (expected === undefined) return
  if (existing?.metadata.resourceVersion !== expected) throw FG_ERR_STORE_CONFLICT(what, expected, existing?.metadata.resourceVersion)
}

export const keyOf = (kind: string, namespace: string, name: string): string => `${kind}/${namespace}/${name}`
