import type { Logger } from 'pino'
import type { Store, StoredResource } from '@flowgate/store'
import { egressDefaults, type EgressOptions } from './options.js'
import { cacheKey, resolveDataflow, type ResourceCache, type ResolvedDataflow } from './resolve.js'
import { MqttToKafkaFlow, type OutcomeListener, type PublishOutcome } from './mqtt-to-kafka-flow.js'
import { createDataflowMetrics, type DataflowMetrics } from './metrics.js'
import { StatusTracker, reasonOf, endpointStatus, emptyLedger, type LedgerCounters } from './status.js'
import type { DestinationError, InboundMqttMessage, KafkaDestination, TranslateToKafka } from './ports.js'

/** A running Kafka → MQTT dataflow as the runtime manages it (built by `FlowFactories.kafkaToMqttFlow`). */
export interface KafkaSourceFlow {
  /** Messages consumed and not yet committed. */
  readonly buffered: number
  close: () => Promise<void>
}

export interface KafkaSourceRecord { topic: string, offset?: string, key: Uint8Array | null, headers: Array<[string, Uint8Array]> }
export interface MqttPublished { topic: string, payload: Uint8Array, qos: number, retain: boolean, properties?: Record<string, unknown> }

/** What a Kafka → MQTT flow reports to the runtime (metrics and status are the runtime's). */
export interface KafkaSourceObserver {
  received: (bytes: number) => void
  sent: (bytes: number, latencyMs: number) => void
  dropped: (reason: string, detail?: string) => void
  state: (state: 'ready' | 'degraded', code?: string, detail?: string) => void
  /** A record published to MQTT (the live tail); called only when given. */
  published?: (source: KafkaSourceRecord, publish: MqttPublished) => void
  /** Consumer lag (messages) per topic-partition, when known. */
  lag?: (topic: string, partition: number, lag: number) => void
}

/**
 * An MQTT source reached over the network (an external broker, or the ingress in the split deployment): it
 * subscribes to the dataflow's filters and hands each message to `accept`, acknowledging it (PUBACK) only once
 * the returned outcome settles.
 */
export interface MqttNetworkSource {
  close: () => Promise<void>
}

/** How the runtime builds the parts of a flow; `wiring.ts` binds these to @flowgate/kafka and @flowgate/translate. */
export interface FlowFactories {
  kafkaDestination: (dataflow: ResolvedDataflow, ctx: { instanceId: number, logger: Logger, onProduceRequest?: (seconds: number) => void }) => Promise<KafkaDestination>
  mqttToKafkaTranslator: (dataflow: ResolvedDataflow, ctx: { instanceId: number }) => TranslateToKafka
  /** MQTT sources that are not the embedded broker; absent means such dataflows report `Unsupported`. */
  mqttSource?: (dataflow: ResolvedDataflow, ctx: { instanceId: number, logger: Logger, accept: (message: InboundMqttMessage) => Promise<PublishOutcome> }) => Promise<MqttNetworkSource>
  /** Kafka → MQTT (issue #7): absent means such dataflows report `Ready: False, reason Unsupported`. */
  kafkaToMqttFlow?: (dataflow: ResolvedDataflow, ctx: { instanceId: number, logger: Logger, observer: KafkaSourceObserver }) => Promise<KafkaSourceFlow>
}

/** Where device publishes come from: the embedded broker in process (or an MQTT client, in the split deployment). */
export interface PublishSource {
  /** The interceptor returns true when a flow took the publish; `ack` is then settled once with the outcome. */
  setInterceptor: (interceptor: ((publish: { packet: { topic: string, payload: Buffer | string, qos: number, retain?: boolean, properties?: Record<string, unknown> }, receivedAt: number }, ack: OutcomeListener) => boolean) | undefined) => void
}

/** Observers beyond metrics and status (the live tail). */
export interface RuntimeObserver {
  sentToMqtt?: (flow: { name: string, namespace: string }, source: KafkaSourceRecord, publish: MqttPublished) => void
  sentToKafka?: (flow: { name: string, namespace: string }, message: InboundMqttMessage, record: import('./ports.js').OutboundRecord, result: { partition: number, offset: string | null }) => void
}

interface Running {
  resolved: ResolvedDataflow
  /** MQTT → Kafka flows take publishes from the ingress; Kafka → MQTT flows run on their own. */
  flow?: MqttToKafkaFlow
  buffered: () => number
  /** `abandon`: the process is shutting down — what is not in Kafka stays unacknowledged (the device resends it). */
  close: (abandon?: boolean) => Promise<void>
  /** After a hand-over: releases what the flow used (its producer), its messages now the successor's. */
  retire?: () => Promise<void>
  status: StatusTracker
  /**
   * The dataflow could not start (a Secret missing, a bad host): this flow holds its publishes unacknowledged in
   * the bounded buffer, reports why, and hands them over once a start succeeds. Never a gap that acknowledges.
   */
  holding?: boolean
}

function stop (r: Running): Promise<void> {
  return r.close()
}

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
 * their secrets change) and stops flows without a process restart — and routes device publishes to them.
 */
export function startEgress (settings: {
  store: Store
  source: PublishSource
  factories: FlowFactories
  logger: Logger
  instanceId?: number
  options?: Partial<EgressOptions>
  metrics?: DataflowMetrics
  observer?: RuntimeObserver
  /** `host:port` spellings that mean the embedded broker (an `mq` endpoint at `localhost:1883` is reached in process). */
  embeddedMqttHosts?: string[]
}): EgressRuntime {
  const { store, source, factories, logger: log } = settings
  const options = { ...egressDefaults, ...settings.options }
  const instanceId = settings.instanceId ?? 0
  const metrics = settings.metrics ?? createDataflowMetrics(undefined, { processMetrics: false })
  const cache: ResourceCache = new Map()
  const embeddedHosts = new Set(settings.embeddedMqttHosts ?? [])
  const running = new Map<string, Running>()
  const abort = new AbortController()
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

  /** The flows device publishes go to, as an array: every publish walks it. Rebuilt whenever `running` changes. */
  let embeddedFlows: MqttToKafkaFlow[] = []
  function refreshEmbeddedFlows (): void {
    embeddedFlows = [...running.values()].flatMap((r) => r.flow !== undefined ? [r.flow] : [])
  }

  source.setInterceptor(({ packet, receivedAt }, ack) => {
    const message: InboundMqttMessage = {
      topic: packet.topic,
      payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
      qos: packet.qos as 0 | 1 | 2,
      retain: packet.retain ?? false,
      properties: packet.properties,
      receivedAt
    }
    let taker: MqttToKafkaFlow | undefined
    let others: MqttToKafkaFlow[] | undefined
    for (const flow of embeddedFlows) {
      if (!flow.matches(message.topic)) continue
      if (taker === undefined) taker = flow
      else (others ??= []).push(flow)
    }
    if (taker === undefined) return false
    if (others === undefined) { taker.offer(message, ack); return true }
    // Several dataflows take this publish: the device hears once all have settled, of the first failure.
    const all = [taker, ...others]
    const joined = joinOutcomes(all.length, ack)
    for (const flow of all) flow.offer(message, joined)
    return true
  })

  /** The flow's metric series, bound once: prom-client's label lookup per message showed up in profiles. */
  function flowMetrics (labels: { namespace: string, dataflow: string }) {
    return { tally: metrics.tally(labels), sendLatency: metrics.sendLatency.labels(labels), produceRequest: metrics.produceRequest.labels(labels) }
  }

  async function startFlow (resolved: ResolvedDataflow, held = false): Promise<Running> {
    return resolved.source.spec.endpointType === 'Kafka' ? startKafkaSourceFlow(resolved) : startMqttSourceFlow(resolved, held)
  }

  /** Whether publishes of this dataflow come from the embedded broker in process: those flows hand over. */
  const handsOver = (resolved: ResolvedDataflow): boolean => resolved.source.spec.endpointType !== 'Kafka' && resolved.source.embedded

  async function startKafkaSourceFlow (resolved: ResolvedDataflow): Promise<Running> {
    const labels = { namespace: resolved.namespace, dataflow: resolved.name }
    const m = flowMetrics(labels)
    const status = new StatusTracker(undefined, ledgerOf(resolved.key).counters)
    const flowLog = log.child({ dataflow: resolved.name, namespace: resolved.namespace })
    if (!factories.kafkaToMqttFlow) throw Object.assign(new Error('Kafka → MQTT dataflows are not available in this build'), { code: 'Unsupported' })
    const flow = await factories.kafkaToMqttFlow(resolved, {
      instanceId,
      logger: flowLog,
      observer: {
        received (bytes) { m.tally.received++; m.tally.receivedBytes += bytes; status.count('received') },
        sent (bytes, latencyMs) { m.tally.sent++; m.tally.sentBytes += bytes; m.sendLatency.observe(latencyMs / 1000); status.count('sent') },
        dropped (reason, detail) { metrics.dropped.inc({ ...labels, reason }); status.drop(reason); flowLog.debug({ reason, detail }, 'message dropped') },
        state (state, code, detail) {
          if (state === 'ready') status.set('True', 'Running')
          else status.set('False', reasonOf(code), detail)
        },
        lag (topic, partition, lag) { metrics.consumerLag.set({ ...labels, topic, partition: String(partition) }, lag) },
        ...(settings.observer?.sentToMqtt ? { published: (source: KafkaSourceRecord, publish: MqttPublished) => settings.observer!.sentToMqtt!(resolved, source, publish) } : {})
      }
    })
    status.set('True', 'Running')
    flowLog.info({ source: resolved.source.dataSources, destination: resolved.destination.dataDestination }, 'dataflow started')
    return { resolved, buffered: () => flow.buffered, close: async () => { await flow.close(); m.tally.released = true }, status }
  }

  async function startMqttSourceFlow (resolved: ResolvedDataflow, held: boolean): Promise<Running> {
    if (!resolved.source.embedded && !factories.mqttSource) {
      throw Object.assign(new Error(`MQTT source ${resolved.source.name} is not the embedded broker and this build has no network MQTT source`), { code: 'Unsupported' })
    }
    const labels = { namespace: resolved.namespace, dataflow: resolved.name }
    const m = flowMetrics(labels)
    const status = new StatusTracker(undefined, ledgerOf(resolved.key).counters)
    const flowLog = log.child({ dataflow: resolved.name, namespace: resolved.namespace })
    let destination: KafkaDestination
    let startError: (Error & { code?: string }) | undefined
    try {
      destination = await factories.kafkaDestination(resolved, { instanceId, logger: flowLog, onProduceRequest: (seconds) => m.produceRequest.observe(seconds) })
    } catch (err) {
      if (!handsOver(resolved)) { m.tally.released = true; throw err }
      startError = err as Error & { code?: string }
      destination = unavailableDestination(startError)
    }
    const flow = new MqttToKafkaFlow({
      held,
      name: resolved.name,
      namespace: resolved.namespace,
      filters: resolved.source.dataSources,
      translate: factories.mqttToKafkaTranslator(resolved, { instanceId }),
      destination,
      options,
      observer: {
        received (message) { m.tally.received++; m.tally.receivedBytes += message.payload.byteLength; status.count('received') },
        sent (message, record, result, latencyMs) {
          m.tally.sent++; m.tally.sentBytes += record.value.byteLength; m.sendLatency.observe(latencyMs / 1000)
          status.count('sent')
          settings.observer?.sentToKafka?.(resolved, message, record, result)
        },
        dropped (_m, reason, detail) {
          metrics.dropped.inc({ ...labels, reason }); status.drop(reason)
          flowLog.debug({ reason, detail }, 'message dropped')
        },
        state (state, code, detail) {
          if (state === 'ready') status.set('True', 'Running')
          else status.set('False', reasonOf(code), detail)
          flowLog.warn({ state, code, detail }, `dataflow ${state}`)
        }
      }
    })
    // The embedded broker hands publishes to every running flow (see setInterceptor above); any other broker is
    // subscribed to by this flow's own network source. Only embedded flows are registered for the interceptor.
    let network: MqttNetworkSource | undefined
    if (!resolved.source.embedded) {
      try {
        network = await factories.mqttSource!(resolved, { instanceId, logger: flowLog, accept: (m) => flow.accept(m) })
      } catch (err) {
        await flow.close(); await destination.close(); m.tally.released = true
        throw err
      }
    }
    if (startError !== undefined) {
      status.set('False', reasonOf(startError.code), `not started, its publishes held unacknowledged: ${startError.message}`)
      flowLog.warn({ code: startError.code, err: startError.message }, 'dataflow could not start; holding its publishes and trying again')
    } else {
      status.set('True', 'Running')
      destination.connect?.().catch((err: Error & { code?: string }) => {
        status.set('False', reasonOf(err.code), err.message)
        flowLog.warn({ code: err.code, err: err.message }, 'destination not reachable yet')
      })
      flowLog.info({ source: resolved.source.dataSources, destination: resolved.destination.dataDestination, embedded: resolved.source.embedded }, 'dataflow started')
    }
    return {
      resolved,
      flow: resolved.source.embedded ? flow : undefined,
      buffered: () => flow.buffered,
      close: async (abandon) => { await network?.close(); await flow.close(undefined, abandon); await destination.close(); m.tally.released = true },
      retire: async () => { await destination.close(); m.tally.released = true },
      status,
      ...(startError !== undefined ? { holding: true } : {})
    }
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

  async function writeStatus (resource: StoredResource, status: unknown): Promise<void> {
    await store.setStatus({ kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name }, status)
      .catch((err: Error) => log.debug({ err: err.message }, 'status not written'))
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

  const statusTimer = setInterval(() => {
    // Dataflows holding publishes because they could not start are tried again.
    if ([...running.values()].some((r) => r.holding === true)) void reconcile()
    for (const r of running.values()) {
      const buffered = bufferedOf(r)
      r.status.setBuffered(buffered)
      metrics.buffered.set({ namespace: r.resolved.namespace, dataflow: r.resolved.name }, buffered)
      const status = r.status.takeIfChanged()
      const resource = cache.get(r.resolved.key)
      if (status && resource) void writeStatus(resource, status)
    }
    writeEndpointStatuses()
  }, options.statusIntervalMs)
  statusTimer.unref()

  const endpointStatusWritten = new Map<string, string>()
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

  /** Lists everything, then follows changes; a watch the store can no longer serve (410) lists again. */
  async function follow (): Promise<void> {
    for (;;) {
      const listed = await store.list()
      cache.clear()
      for (const item of listed.items) if (RESOURCE_KINDS.has(item.kind)) cache.set(cacheKey(item.kind, item.metadata.namespace, item.metadata.name), item)
      await reconcile()
      resolveListed?.()
      try {
        for await (const event of store.watch({ fromResourceVersion: listed.resourceVersion, signal: abort.signal })) {
          const { kind, metadata } = event.object
          if (!RESOURCE_KINDS.has(kind)) continue
          const key = cacheKey(kind, metadata.namespace, metadata.name)
          if (event.type === 'DELETED') cache.delete(key)
          else cache.set(key, event.object)
          void reconcile()
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
    running: () => [...running.keys()],
    async close (opts = {}) {
      abort.abort()
      clearInterval(statusTimer)
      await reconciling
      // The interceptor stays until the flows are closed: removed first, publishes arriving meanwhile would find no
      // flow and be acknowledged at once. A closed flow still answers what it is offered.
      await Promise.all([...running.values()].map(async (r) => await r.close(opts.shutdown === true)))
      source.setInterceptor(undefined)
      running.clear()
      refreshEmbeddedFlows()
    }
  }
}

/** Where a dataflow that could not start sends: nowhere, with the start's error, retriable — so its messages wait. */
function unavailableDestination (cause: Error & { code?: string }): KafkaDestination {
  const error = (): DestinationError => Object.assign(new Error(cause.message), { code: cause.code ?? 'FG_ERR_DATAFLOW_NOT_STARTED', permanent: false })
  return { send (_record, done) { done(error()) }, close: async () => {} }
}

/**
 * One listener for `count` outcomes: settles `ack` once all are in, with the first failure (or success). Left
 * unacknowledged by any flow wins over everything: the device must resend (the others then see a duplicate).
 */
function joinOutcomes (count: number, ack: OutcomeListener): OutcomeListener {
  let left = count
  let failure: PublishOutcome | undefined
  return {
    settle (outcome) {
      if (outcome.unacknowledged === true) failure = outcome
      else if (failure === undefined && outcome.reasonCode !== undefined) failure = outcome
      if (--left === 0) ack.settle(failure ?? {})
    }
  }
}
