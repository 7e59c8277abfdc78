/**
 * The reconciler owns every transition of a dataflow: from the resources in the cache to the flows that should
 * run, it starts, restarts, hands over (an edit of an embedded-broker dataflow) and stops flows, keeps each
 * dataflow's ledger across its restarts, tells the router which flows take device publishes, and writes the
 * statuses of dataflows and endpoints.
 */
import type { Store, StoredResource } from '@flowgate/store'
import { cacheKey, resolveDataflow, type ResourceCache, type ResolvedDataflow } from './resolve.js'
import { STATUS_PART_REFRESH_MS } from '@flowgate/resources'
import { reasonOf, endpointStatus, emptyLedger, type LedgerCounters, type StatusTracker } from './status.js'
import { createFlowStarter, handsOver, type FlowStarterContext, type Running } from './flow-starters.js'
import type { PublishRouter } from './router.js'

export interface Reconciler {
  /** Reconciles with the cache as it is now; calls made while one runs coalesce into one more run. */
  reconcile: () => Promise<void>
  /** The keys of the dataflows running. */
  running: () => string[]
  /**
   * Stops the status timer, waits for a reconcile under way, and closes every flow (`abandon`: see `Running.close`).
   * The router keeps its flows: closed, they still answer what they are offered until the router is detached.
   */
  close: (abandon: boolean) => Promise<void>
}

export function createReconciler (settings: {
  store: Store
  /** The store follower's resources; read, never written, here. */
  cache: ResourceCache
  embeddedHosts: Set<string>
  router: Pick<PublishRouter, 'setFlows'>
  /** This runtime's part of each status when others write theirs beside it (runtime.ts' `statusWriter`). */
  statusWriter?: string
  /** What flows are started with (the factories, options, metrics, observers); their logger and metrics are also the reconciler's. */
  flows: FlowStarterContext
}): Reconciler {
  const { store, cache, embeddedHosts, router } = settings
  const { metrics, logger: log, options } = settings.flows
  const running = new Map<string, Running>()
  let reconciling: Promise<void> = Promise.resolve()
  let again = false

  /**
   * Each dataflow's ledger, kept across its restarts (an edit hands messages from one flow to the next, which sends
   * them): the flows counting into it and those still draining after a hand-over hold its `buffered`.
   */
  const ledgers = new Map<string, { counters: LedgerCounters, draining: Set<() => number> }>()
  function ledgerOf (key: string): { counters: LedgerCounters, draining: Set<() => number> } {
    let ledger = ledgers.get(key)
    if (ledger === undefined) ledgers.set(key, ledger = { counters: emptyLedger(), draining: new Set() })
    return ledger
  }
  function bufferedOf (r: Running): number {
    let n = r.buffered()
    for (const draining of ledgers.get(r.resolved.key)?.draining ?? []) n += draining()
    return n
  }
  const startFlow = createFlowStarter(settings.flows, (key) => ledgerOf(key).counters)

  /** The router's flows (those device publishes walk), rebuilt whenever `running` changes. */
  function refreshEmbeddedFlows (): void {
    router.setFlows([...running.values()].flatMap((r) => r.flow !== undefined ? [r.flow] : []))
  }

  function stop (r: Running): Promise<void> {
    return r.close()
  }

  async function reconcileOnce (): Promise<void> {
    const desired = new Map<string, ResolvedDataflow>()
    for (const resource of cache.values()) {
      if (resource.kind !== 'Dataflow') continue
      const resolution = resolveDataflow(resource, cache, embeddedHosts)
      const key = cacheKey('Dataflow', resource.metadata.namespace, resource.metadata.name)
      if (resolution.ok) {
        desired.set(key, resolution.dataflow)
      } else {
        await writeStatus(resource, { conditions: [{ type: 'Ready', status: 'False', reason: resolution.reason, message: resolution.message, lastTransitionTime: new Date().toISOString() }] })
      }
    }
    for (const [key, r] of running) {
      const want = desired.get(key)
      if (want?.fingerprint === r.resolved.fingerprint && r.holding !== true) continue
      if (want !== undefined && r.flow !== undefined && handsOver(want)) {
        await replace(key, r, want)
        continue
      }
      running.delete(key)
      refreshEmbeddedFlows()
      log.info({ dataflow: r.resolved.name, namespace: r.resolved.namespace }, want ? 'dataflow changed: restarting' : 'dataflow stopped')
      await stop(r)
      if (want === undefined) {
        ledgers.delete(key)
        metrics.buffered.remove({ namespace: r.resolved.namespace, dataflow: r.resolved.name })
      }
    }
    for (const [key, want] of desired) {
      if (running.has(key)) continue
      try {
        running.set(key, await startFlow(want))
        refreshEmbeddedFlows()
      } catch (err) {
        const e = err as Error & { code?: string }
        log.error({ dataflow: want.name, err: e.message, code: e.code }, 'dataflow failed to start')
        const resource = cache.get(key)
        if (resource) await writeStatus(resource, { conditions: [{ type: 'Ready', status: 'False', reason: reasonOf(e.code), message: e.message, lastTransitionTime: new Date().toISOString() }] })
      }
    }
  }

  /**
   * A changed dataflow whose publishes come from the embedded broker: the successor starts first (held), takes the
   * publishes at once, and gets the predecessor's unsent messages ahead of its own before it sends — no moment in
   * which a publish finds no flow (and gets an acknowledgement for nothing), no key overtaking itself.
   */
  async function replace (key: string, previous: Running, want: ResolvedDataflow): Promise<void> {
    let next: Running
    try {
      next = await startFlow(want, true)
    } catch (err) {
      const e = err as Error & { code?: string }
      log.error({ dataflow: want.name, err: e.message, code: e.code }, 'changed dataflow failed to start; the previous one keeps running')
      previous.status.set('False', reasonOf(e.code), `the change could not start, the previous configuration keeps running: ${e.message}`)
      return
    }
    if (next.holding === true) {
      // Still cannot start (a missing Secret): the flow already there keeps the publishes — flowing with the previous
      // configuration, or held — and says why.
      await next.close()
      const why = next.status.readyCondition
      previous.status.set('False', why.reason, previous.holding === true ? why.message : `the change could not start, the previous configuration keeps running: ${why.message ?? ''}`)
      if (previous.holding === true) previous.resolved = want
      return
    }
    running.set(key, next)
    refreshEmbeddedFlows()
    log.info({ dataflow: want.name, namespace: want.namespace }, previous.holding === true ? 'dataflow started: held publishes handed over' : 'dataflow changed: handed over to the new configuration')
    // Sends of the predecessor still in flight after the hand-over stay in the ledger's `buffered` until they settle.
    const draining = ledgerOf(key).draining
    draining.add(previous.buffered)
    await previous.flow!.handOver(next.flow!)
    // Closed before the successor sends: a record the old producer still has in flight is not overtaken.
    await previous.retire?.()
    draining.delete(previous.buffered)
    next.flow!.release()
  }

  const writer = settings.statusWriter
  async function writeStatus (resource: StoredResource, status: object): Promise<void> {
    const key = { kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name }
    const written = writer === undefined
      ? store.setStatus(key, status)
      : store.setStatus(key, { ...status, writtenAt: new Date().toISOString() }, { writer })
    await written.catch((err: Error) => log.debug({ err: err.message }, 'status not written'))
  }

  /** A writer among others rewrites its parts now and then even when unchanged: a part not rewritten is a writer gone. */
  let refreshedAt = Date.now()
  function refreshDue (): boolean {
    if (writer === undefined || Date.now() - refreshedAt < STATUS_PART_REFRESH_MS) return false
    refreshedAt = Date.now()
    return true
  }

  function reconcile (): Promise<void> {
    if (again) return reconciling
    again = true
    reconciling = reconciling.then(async () => {
      again = false
      await reconcileOnce().catch((err: Error) => log.error({ err: err.message }, 'reconcile failed'))
    })
    return reconciling
  }

  const endpointStatusWritten = new Map<string, string>()
  const statusTimer = setInterval(() => {
    // Dataflows holding publishes because they could not start are tried again.
    if ([...running.values()].some((r) => r.holding === true)) void reconcile()
    const refresh = refreshDue()
    if (refresh) endpointStatusWritten.clear()
    for (const r of running.values()) {
      const buffered = bufferedOf(r)
      r.status.setBuffered(buffered)
      metrics.buffered.set({ namespace: r.resolved.namespace, dataflow: r.resolved.name }, buffered)
      const status = r.status.takeIfChanged(refresh)
      const resource = cache.get(r.resolved.key)
      if (status && resource) void writeStatus(resource, status)
    }
    writeEndpointStatuses()
  }, options.statusIntervalMs)
  statusTimer.unref()

  /** Every endpoint's status from the dataflows that use it, written when it changes. */
  function writeEndpointStatuses (): void {
    const users = new Map<string, Array<{ dataflow: string, ready: StatusTracker['readyCondition'] }>>()
    for (const r of running.values()) {
      for (const ep of [r.resolved.source, r.resolved.destination]) {
        const key = cacheKey('DataflowEndpoint', ep.namespace, ep.name)
        const list = users.get(key) ?? []
        list.push({ dataflow: r.resolved.name, ready: r.status.readyCondition })
        users.set(key, list)
      }
    }
    for (const [key, resource] of cache) {
      if (resource.kind !== 'DataflowEndpoint') continue
      const status = endpointStatus(users.get(key) ?? [])
      // Timestamps left out: an unused endpoint's status would otherwise change at every tick.
      const fingerprint = JSON.stringify([status.dataflows, status.conditions.map((c) => [c.status, c.reason, c.message])])
      if (endpointStatusWritten.get(key) === fingerprint) continue
      endpointStatusWritten.set(key, fingerprint)
      void writeStatus(resource, status)
    }
  }

  return {
    reconcile,
    running: () => [...running.keys()],
    async close (abandon) {
      clearInterval(statusTimer)
      await reconciling
      await Promise.all([...running.values()].map(async (r) => await r.close(abandon)))
      running.clear()
    }
  }
}
