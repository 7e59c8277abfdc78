/**
 * The storage contract every backend (file, PostgreSQL) implements and the shared conformance suite checks.
 * Resources are stored as plain JSON objects of the Kubernetes shape (DESIGN §2); the store knows nothing of
 * their specs, only of kind/namespace/name and of versions.
 */

export interface ResourceMetadata {
  name: string
  namespace: string
  /** Opaque to clients; assigned by the store on every write, strictly increasing across the whole store. */
  resourceVersion?: string
  /** Starts at 1; increases when `spec` (or `data`/`stringData` for Secret/ConfigMap) changes. */
  generation?: number
  /** RFC 3339, set on creation and kept on replace. */
  creationTimestamp?: string
  uid?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

export interface StoredResource {
  apiVersion: string
  kind: string
  metadata: ResourceMetadata
  spec?: unknown
  status?: unknown
  /** Secret / ConfigMap payloads. */
  type?: string
  data?: Record<string, string>
  [field: string]: unknown
}

export interface ResourceKey {
  kind: string
  namespace: string
  name: string
}

export interface PutOptions {
  /** When set, the write succeeds only if the stored object has this resourceVersion (FG_ERR_STORE_CONFLICT). */
  expectedResourceVersion?: string
}

export interface PutResult {
  resource: StoredResource
  created: boolean
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface WatchEvent {
  type: WatchEventType
  object: StoredResource
}

export interface WatchOptions {
  /** Replay every change after this resourceVersion, then follow live; omitted: live changes only. */
  fromResourceVersion?: string
  kind?: string
  signal?: AbortSignal
}

export interface Store {
  get: (key: ResourceKey) => Promise<StoredResource | undefined>
  /** Items sorted by namespace then name; `resourceVersion` is the store's version at the time of the read. */
  list: (filter?: { kind?: string, namespace?: string }) => Promise<{ items: StoredResource[], resourceVersion: string }>
  put: (resource: StoredResource, options?: PutOptions) => Promise<PutResult>
  /** Several writes that succeed or fail together (used by `POST /apply`). */
  putAll: (resources: Array<{ resource: StoredResource, options?: PutOptions }>) => Promise<PutResult[]>
  delete: (key: ResourceKey, options?: PutOptions) => Promise<StoredResource | undefined>
  /**
   * Observed state written by the runtime. It changes neither resourceVersion nor generation and emits no watch
   * event: status is rewritten often and watchers reconcile on spec changes only. With `writer`, the status is that
   * writer's part of it (status-parts.ts): several runtimes writing the same object's status do not overwrite
   * each other's.
   */
  setStatus: (key: ResourceKey, status: unknown, options?: { writer?: string }) => Promise<void>
  watch: (options?: WatchOptions) => AsyncIterable<WatchEvent>
  close: () => Promise<void>
}
