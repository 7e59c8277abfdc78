import { isDeepStrictEqual } from 'node:util'
import {
  checkReferences, dependencyOrder, references, validate, DEFAULT_NAMESPACE,
  type KindInfo, type Lookup, type ManifestDocument, type ReferenceProblem
} from '@flowgate/resources'
import {
  FG_ERR_CONFLICT, FG_ERR_DANGLING_REFERENCE, FG_ERR_NAME_MISMATCH, FG_ERR_NOT_FOUND, FG_ERR_REDACTED_SECRET,
  FG_ERR_REFERENCE_MISMATCH, FG_ERR_REFERENCED, FG_ERR_TOPIC_LOOP, FG_ERR_VALIDATION, type FieldError
} from './errors.js'
import { topicLoops } from './topic-loops.js'
import { REDACTED_ANNOTATION } from './options.js'
import type { SecretCipher } from './secrets.js'
import type { Store, StoredResource } from '@flowgate/store'

/** What the REST handlers need: the store, the cipher that seals Secrets before they reach it. */
export interface AdminContext {
  store: Store
  cipher: SecretCipher
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged'

export interface ApplyResult {
  kind: string
  namespace: string
  name: string
  result: ApplyOutcome
  resourceVersion?: string
}

interface Prepared {
  /** Validated, normalised, defaulted; server-set metadata removed; Secret values still plain. */
  resource: StoredResource
  expectedResourceVersion?: string
}

const label = (r: { kind: string, metadata: { name: string } }): string => `${r.kind.toLowerCase()}/${r.metadata.name}`

/** Validates one document; errors carry `prefix` before their paths (POST /apply: the document index). */
function prepare (doc: unknown, where?: { document: number, manifest?: ManifestDocument }): Prepared | FieldError[] {
  const result = validate(doc)
  if (!result.ok) {
    const m = (doc ?? {}) as { kind?: unknown, metadata?: { name?: unknown } }
    const resource = typeof m.kind === 'string' ? `${m.kind.toLowerCase()}/${String(m.metadata?.name ?? '')}` : undefined
    return result.errors.map((e) => where === undefined
      ? { ...e }
      : {
          ...e,
          path: `/${where.document}${e.path}`,
          document: where.document,
          ...(resource !== undefined ? { resource } : {}),
          ...(where.manifest !== undefined ? { line: where.manifest.lineOf(e.path) } : {})
        })
  }
  const resource = structuredClone(result.resource) as unknown as StoredResource
  const annotations = resource.metadata.annotations
  if (resource.kind === 'Secret' && annotations?.[REDACTED_ANNOTATION] === 'true') throw FG_ERR_REDACTED_SECRET(resource.metadata.name)
  const { resourceVersion, generation: _g, creationTimestamp: _c, uid: _u, ...metadata } = resource.metadata
  resource.metadata = metadata
  return resourceVersion === undefined ? { resource } : { resource, expectedResourceVersion: resourceVersion }
}

function referenceError (problems: ReferenceProblem[], prefix = ''): Error {
  const errors = problems.map((p) => ({ path: prefix + p.path, message: p.message }))
  const refs = [...new Set(problems.map((p) => p.reference))]
  const dangling = problems.filter((p) => p.code === 'FG_ERR_DANGLING_REFERENCE')
  if (dangling.length > 0) return FG_ERR_DANGLING_REFERENCE(`dangling reference: ${dangling.map((p) => p.reference).join(', ')}`, errors, refs)
  return FG_ERR_REFERENCE_MISMATCH(problems.map((p) => p.message).join('; '), errors, refs)
}

/** Same content as stored: spec (or type/data), labels, annotations, apiVersion. Secrets compared opened. */
function unchanged (ctx: AdminContext, stored: StoredResource, incoming: StoredResource): boolean {
  const content = (r: StoredResource): unknown => {
    const { metadata, status: _s, ...rest } = r
    return { ...rest, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} }
  }
  const current = stored.kind === 'Secret' ? ctx.cipher.open(stored) : stored
  return isDeepStrictEqual(content(current), content(incoming))
}

function storeError (err: unknown): unknown {
  const e = err as { code?: string, message?: string }
  if (e?.code === 'FG_ERR_STORE_CONFLICT') return FG_ERR_CONFLICT(e.message ?? 'resourceVersion does not match')
  return err
}

const seal = (ctx: AdminContext, r: StoredResource): StoredResource => r.kind === 'Secret' ? ctx.cipher.seal(r) : r

/** PUT /namespaces/{ns}/{kind}/{name}: create or replace, conditional on a given resourceVersion. */
export async function putResource (ctx: AdminContext, info: KindInfo, namespace: string, name: string, doc: unknown): Promise<{ created: boolean, resource: StoredResource }> {
  // The path names the resource; a body may leave out what the path says.
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
    const d = doc as Record<string, any>
    d.kind ??= info.kind
    d.apiVersion ??= info.apiVersion
    if (typeof d.metadata === 'object' && d.metadata !== null) {
      d.metadata.name ??= name
      d.metadata.namespace ??= namespace
    } else if (d.metadata === undefined) d.metadata = { name, namespace }
  }
  const prepared = prepare(doc)
  if (Array.isArray(prepared)) throw FG_ERR_VALIDATION(prepared)
  const { resource } = prepared
  const mismatch: FieldError[] = []
  if (resource.kind !== info.kind) mismatch.push({ path: '/kind', message: `the path is for ${info.kind}`, allowed: [info.kind] })
  if (resource.metadata.name !== name) mismatch.push({ path: '/metadata/name', message: `the path names ${name}`, allowed: [name] })
  if (resource.metadata.namespace !== namespace) mismatch.push({ path: '/metadata/namespace', message: `the path names namespace ${namespace}`, allowed: [namespace] })
  if (mismatch.length > 0) throw FG_ERR_NAME_MISMATCH(mismatch)
  const problems = await checkReferences(resource, async (kind, ns, n) => await ctx.store.get({ kind, namespace: ns, name: n }))
  if (problems.length > 0) throw referenceError(problems)
  await refuseTopicLoops(ctx, [resource], () => '')
  try {
    const options = prepared.expectedResourceVersion === undefined ? undefined : { expectedResourceVersion: prepared.expectedResourceVersion }
    return await ctx.store.put(seal(ctx, resource), options)
  } catch (err) {
    throw storeError(err)
  }
}

/**
 * POST /apply: every document validated first (all errors, each prefixed with its document index), references
 * resolved against the request and the store together, then one all-or-nothing write in dependency order.
 */
export async function applyResources (ctx: AdminContext, manifests: ManifestDocument[]): Promise<ApplyResult[]> {
  const prepared: Prepared[] = []
  const errors: FieldError[] = []
  manifests.forEach((m, document) => {
    const p = prepare(m.value, { document, manifest: m })
    if (Array.isArray(p)) errors.push(...p)
    else prepared.push(p)
  })
  if (errors.length > 0) throw FG_ERR_VALIDATION(errors)
  // The same resource twice in one request: which one wins would depend on the order, so neither does.
  const seen = new Map<string, number>()
  prepared.forEach((p, i) => {
    const k = `${p.resource.kind}/${p.resource.metadata.namespace}/${p.resource.metadata.name}`
    const first = seen.get(k)
    if (first === undefined) seen.set(k, i)
    else errors.push({ path: `/${i}/metadata/name`, message: `${label(p.resource)} appears twice in this request (also document ${first})`, document: i, line: manifests[i]!.lineOf('/metadata/name') })
  })
  if (errors.length > 0) throw FG_ERR_VALIDATION(errors)

  const key = (kind: string, ns: string, name: string): string => `${kind}/${ns}/${name}`
  const batch = new Map(prepared.map((p) => [key(p.resource.kind, p.resource.metadata.namespace, p.resource.metadata.name), p.resource]))
  const lookup: Lookup = async (kind, ns, name) => batch.get(key(kind, ns, name)) ?? await ctx.store.get({ kind, namespace: ns, name })
  const problems: ReferenceProblem[] = []
  for (const [document, p] of prepared.entries()) {
    problems.push(...(await checkReferences(p.resource, lookup)).map((q) => ({ ...q, path: `/${document}${q.path}` })))
  }
  if (problems.length > 0) throw referenceError(problems)
  await refuseTopicLoops(ctx, prepared.map((p) => p.resource), (i) => `/${i}`)

  const ordered = dependencyOrder(prepared.map((p) => ({ kind: p.resource.kind, p }))).map(({ p }) => p)
  const results: ApplyResult[] = []
  const writes: Array<{ resource: StoredResource, options?: { expectedResourceVersion: string } }> = []
  for (const p of ordered) {
    const { kind, metadata: { namespace, name } } = p.resource
    const stored = await ctx.store.get({ kind, namespace, name })
    if (stored !== undefined && unchanged(ctx, stored, p.resource)) {
      results.push({ kind, namespace, name, result: 'unchanged', ...(stored.metadata.resourceVersion ? { resourceVersion: stored.metadata.resourceVersion } : {}) })
      continue
    }
    results.push({ kind, namespace, name, result: stored === undefined ? 'created' : 'configured' })
    writes.push({ resource: seal(ctx, p.resource), ...(p.expectedResourceVersion === undefined ? {} : { options: { expectedResourceVersion: p.expectedResourceVersion } }) })
  }
  try {
    const written = writes.length === 0 ? [] : await ctx.store.putAll(writes)
    let i = 0
    for (const r of results) {
      if (r.result === 'unchanged') continue
      const v = written[i++]?.resource.metadata.resourceVersion
      if (v !== undefined) r.resourceVersion = v
    }
  } catch (err) {
    throw storeError(err)
  }
  return results
}

/** DELETE: refused while another resource of the namespace still names this one. */
export async function deleteResource (ctx: AdminContext, info: KindInfo, namespace: string, name: string): Promise<StoredResource> {
  const target = { kind: info.kind, namespace, name }
  if (await ctx.store.get(target) === undefined) throw FG_ERR_NOT_FOUND(info.kind, namespace, name)
  const { items } = await ctx.store.list({ namespace })
  const referrers = items.filter((r) => references(r).some((ref) => ref.kind === info.kind && ref.name === name)).map(label)
  if (referrers.length > 0) throw FG_ERR_REFERENCED(`${info.singular}/${name}`, [...new Set(referrers)])
  let deleted: StoredResource | undefined
  try {
    deleted = await ctx.store.delete(target)
  } catch (err) {
    throw storeError(err)
  }
  if (deleted === undefined) throw FG_ERR_NOT_FOUND(info.kind, namespace, name)
  return deleted
}

export { DEFAULT_NAMESPACE }

/**
 * 422 when the request, applied over what is stored, makes two dataflows feed each other (topic-loops.ts). Only
 * loops with a dataflow of the request, or through an endpoint of it, are the request's doing.
 */
async function refuseTopicLoops (ctx: AdminContext, incoming: StoredResource[], pathOf: (index: number) => string): Promise<void> {
  const touches = incoming.filter((r) => r.kind === 'Dataflow' || r.kind === 'DataflowEndpoint')
  if (touches.length === 0) return
  const id = (r: { kind: string, metadata: { namespace: string, name: string } }): string => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`
  const byId = new Map<string, { kind: string, metadata: { namespace: string, name: string }, spec?: unknown }>()
  for (const kind of ['Dataflow', 'DataflowEndpoint']) for (const r of (await ctx.store.list({ kind })).items) byId.set(id(r), r)
  for (const r of incoming) byId.set(id(r), r)
  const all = [...byId.values()]
  const loops = topicLoops(all.filter((r) => r.kind === 'Dataflow') as never[], (namespace, name) => byId.get(`DataflowEndpoint/${namespace}/${name}`) as never)
  const mine = new Set(incoming.map((r) => r.kind === 'Dataflow' ? `${r.metadata.namespace}/${r.metadata.name}` : ''))
  const endpointsChanged = incoming.some((r) => r.kind === 'DataflowEndpoint')
  const ours = loops.filter((l) => endpointsChanged || mine.has(l.toKafka) || mine.has(l.toMqtt))
  if (ours.length === 0) return
  const errors: FieldError[] = ours.map((l) => {
    const index = incoming.findIndex((r) => r.kind === 'Dataflow' && [l.toKafka, l.toMqtt].includes(`${r.metadata.namespace}/${r.metadata.name}`))
    return {
      path: `${index >= 0 ? pathOf(index) : ''}/spec/operations`,
      message: `dataflow ${l.toKafka} sends MQTT topics to Kafka topic "${l.kafkaTopic}", and dataflow ${l.toMqtt} sends "${l.kafkaTopic}" back to MQTT topic "${l.mqttTopic}", which ${l.toKafka} takes again: every message would go round forever. Give one of them another topic.`
    }
  })
  const names = [...new Set(ours.flatMap((l) => [l.toKafka, l.toMqtt]))]
  throw FG_ERR_TOPIC_LOOP(`dataflows ${names.join(' and ')} feed each other (a topic loop)`, errors, names)
}
