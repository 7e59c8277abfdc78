import type { Logger } from 'pino'
import type { Store } from '@flowgate/store'
import { egressDefaults, type EgressOptions } from './options.js'
import { cacheKey, type ResourceCache } from './resolve.js'
import { createDataflowMetrics, type DataflowMetrics } from './metrics.js'
import type { FlowFactories, RuntimeObserver } from './flow-starters.js'
import { createPublishRouter, type PublishSource } from './router.js'
import { createReconciler } from './reconciler.js'

export interface EgressRuntime {
  readonly metrics: DataflowMetrics
  /** Resolves once every dataflow in the store at start has been reconciled. */
  readonly ready: Promise<void>
  running: () => string[]
  /**
   * Stops every flow after it drained (bounded). `shutdown`: the process ends — messages not in Kafka are left
   * unacknowledged rather than answered `dataflow-stopped`, so devices resend them to the next process.
   */
  close: (opts?: { shutdown?: boolean }) => Promise<void>
}

const RESOURCE_KINDS = new Set(['Dataflow', 'DataflowEndpoint', 'DataflowProfile', 'Secret', 'ConfigMap'])

/**
 * The dataflow runtime: follows the store and reconciles — starts, restarts (when a dataflow, its endpoints, or
 * their secrets change) and stops flows without a process restart — and routes device publishes to them. The
 * reconciler (reconciler.ts) owns the transitions, the router (router.ts) the publishes; this is only the wiring
 * and the store follower that feeds both the cache.
 */
export function startEgress (settings: {
  store: Store
  source: PublishSource
  factories: FlowFactories
  logger: Logger
  instanceId?: number
  /**
   * Set when other runtimes run the same dataflows beside this one (the workers of `flowgate start --workers N`):
   * this runtime's name among them, under which it writes its part of each status (the store keeps the parts apart).
   */
  statusWriter?: string
  options?: Partial<EgressOptions>
  metrics?: DataflowMetrics
  observer?: RuntimeObserver
  /** `host:port` spellings that mean the embedded broker (an `mq` endpoint at `localhost:1883` is reached in process). */
  embeddedMqttHosts?: string[]
}): EgressRuntime {
  const { store, logger: log } = settings
  const metrics = settings.metrics ?? createDataflowMetrics(undefined, { processMetrics: false })
  const cache: ResourceCache = new Map()
  const abort = new AbortController()
  const router = createPublishRouter(settings.source)
  const reconciler = createReconciler({
    store,
    cache,
    embeddedHosts: new Set(settings.embeddedMqttHosts ?? []),
    router,
    ...(settings.statusWriter !== undefined ? { statusWriter: settings.statusWriter } : {}),
    flows: {
      factories: settings.factories,
      options: { ...egressDefaults, ...settings.options },
      metrics,
      instanceId: settings.instanceId ?? 0,
      logger: log,
      observer: settings.observer
    }
  })

  /** Lists everything, then follows changes; a watch the store can no longer serve (410) lists again. */
  async function follow (): Promise<void> {
    for (;;) {
      const listed = await store.list()
      cache.clear()
      for (const item of listed.items) if (RESOURCE_KINDS.has(item.kind)) cache.set(cacheKey(item.kind, item.metadata.namespace, item.metadata.name), item)
      await reconciler.reconcile()
      resolveListed?.()
      try {
        for await (const event of store.watch({ fromResourceVersion: listed.resourceVersion, signal: abort.signal })) {
          const { kind, metadata } = event.object
          if (!RESOURCE_KINDS.has(kind)) continue
          const key = cacheKey(kind, metadata.namespace, metadata.name)
          if (event.type === 'DELETED') cache.delete(key)
          else cache.set(key, event.object)
          void reconciler.reconcile()
        }
        return
      } catch (err) {
        if (abort.signal.aborted) return
        const e = err as Error & { code?: string }
        if (e.code === 'FG_ERR_STORE_WATCH_EXPIRED') { log.warn('store watch fell behind; listing again'); continue }
        log.error({ err: e.message, code: e.code }, 'store watch ended; retrying in 1 s')
        await new Promise((resolve) => setTimeout(resolve, 1000).unref())
      }
    }
  }

  let resolveListed: (() => void) | undefined
  const ready = new Promise<void>((resolve, reject) => {
    resolveListed = resolve
    follow().catch((err: Error) => { log.error({ err: err.message }, 'dataflow runtime stopped following the store'); reject(err) })
  })

  return {
    metrics,
    ready,
    running: reconciler.running,
    async close (opts = {}) {
      abort.abort()
      // The interceptor stays until the flows are closed: removed first, publishes arriving meanwhile would find no
      // flow and be acknowledged at once. A closed flow still answers what it is offered.
      await reconciler.close(opts.shutdown === true)
      router.detach()
    }
  }
}
