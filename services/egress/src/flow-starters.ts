/**
 * Starting one dataflow, of either direction, into the shape the reconciler manages (`Running`): its metric series
 * bound, its StatusTracker counting into the dataflow's ledger, the runtime's observers attached. The parts of a
 * flow come from `FlowFactories`, which `wiring.ts` binds to @flowgate/kafka and @flowgate/translate.
 */
import type { Logger } from 'pino'
import type { EgressOptions } from './options.js'
import type { ResolvedDataflow } from './resolve.js'
import { MqttToKafkaFlow, type PublishOutcome } from './mqtt-to-kafka-flow.js'
import type { DataflowMetrics } from './metrics.js'
import { StatusTracker, reasonOf, type LedgerCounters } from './status.js'
import type { DestinationError, InboundMqttMessage, KafkaDestination, OutboundRecord, TranslateToKafka } from './ports.js'
import { FG_ERR_DATAFLOW_UNSUPPORTED, FG_ERR_DATAFLOW_NOT_STARTED } from './errors.js'

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

/** Observers beyond metrics and status (the live tail). */
export interface RuntimeObserver {
  sentToMqtt?: (flow: { name: string, namespace: string }, source: KafkaSourceRecord, publish: MqttPublished) => void
  sentToKafka?: (flow: { name: string, namespace: string }, message: InboundMqttMessage, record: OutboundRecord, result: { partition: number, offset: string | null }) => void
}

export interface Running {
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

/** Starts a dataflow; `held`: an MQTT → Kafka flow that takes publishes but sends nothing until `release()`. */
export type StartFlow = (resolved: ResolvedDataflow, held?: boolean) => Promise<Running>

export interface FlowStarterContext {
  factories: FlowFactories
  options: EgressOptions
  metrics: DataflowMetrics
  instanceId: number
  logger: Logger
  observer?: RuntimeObserver | undefined
}

/** Whether publishes of this dataflow come from the embedded broker in process: those flows hand over. */
export const handsOver = (resolved: ResolvedDataflow): boolean => resolved.source.spec.endpointType !== 'Kafka' && resolved.source.embedded

/** `countersOf`: the dataflow's ledger (kept by the reconciler across its restarts), which its status counts into. */
export function createFlowStarter (ctx: FlowStarterContext, countersOf: (key: string) => LedgerCounters): StartFlow {
  const { factories, options, metrics, instanceId, logger: log } = ctx

  /** The flow's metric series, bound once: prom-client's label lookup per message showed up in profiles. */
  function flowMetrics (labels: { namespace: string, dataflow: string }) {
    return { tally: metrics.tally(labels), sendLatency: metrics.sendLatency.labels(labels), produceRequest: metrics.produceRequest.labels(labels) }
  }

  async function startKafkaSourceFlow (resolved: ResolvedDataflow): Promise<Running> {
    const labels = { namespace: resolved.namespace, dataflow: resolved.name }
    const m = flowMetrics(labels)
    const status = new StatusTracker(undefined, countersOf(resolved.key))
    const flowLog = log.child({ dataflow: resolved.name, namespace: resolved.namespace })
    if (!factories.kafkaToMqttFlow) throw FG_ERR_DATAFLOW_UNSUPPORTED('Kafka → MQTT dataflows are not available in this build')
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
        ...(ctx.observer?.sentToMqtt ? { published: (source: KafkaSourceRecord, publish: MqttPublished) => ctx.observer!.sentToMqtt!(resolved, source, publish) } : {})
      }
    })
    status.set('True', 'Running')
    flowLog.info({ source: resolved.source.dataSources, destination: resolved.destination.dataDestination }, 'dataflow started')
    return { resolved, buffered: () => flow.buffered, close: async () => { await flow.close(); m.tally.released = true }, status }
  }

  async function startMqttSourceFlow (resolved: ResolvedDataflow, held: boolean): Promise<Running> {
    if (!resolved.source.embedded && !factories.mqttSource) {
      throw FG_ERR_DATAFLOW_UNSUPPORTED(`MQTT source ${resolved.source.name} is not the embedded broker and this build has no network MQTT source`)
    }
    const labels = { namespace: resolved.namespace, dataflow: resolved.name }
    const m = flowMetrics(labels)
    const status = new StatusTracker(undefined, countersOf(resolved.key))
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
      // A batch may wait its latencyMs before it is even sent: that wait is not Kafka being silent.
      options: { ...options, stallAfterMs: options.stallAfterMs + batchingLatencyOf(resolved) },
      observer: {
        received (message) { m.tally.received++; m.tally.receivedBytes += message.payload.byteLength; status.count('received') },
        sent (message, record, result, latencyMs) {
          m.tally.sent++; m.tally.sentBytes += record.value.byteLength; m.sendLatency.observe(latencyMs / 1000)
          status.count('sent')
          ctx.observer?.sentToKafka?.(resolved, message, record, result)
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
    // The embedded broker hands publishes to every running flow (see router.ts); any other broker is subscribed to
    // by this flow's own network source. Only embedded flows are registered with the router.
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

  return async (resolved, held = false) => resolved.source.spec.endpointType === 'Kafka' ? await startKafkaSourceFlow(resolved) : await startMqttSourceFlow(resolved, held)
}

/** Where a dataflow that could not start sends: nowhere, with the start's error, retriable — so its messages wait. */
function unavailableDestination (cause: Error & { code?: string }): KafkaDestination {
  const error = (): DestinationError => cause.code === undefined ? FG_ERR_DATAFLOW_NOT_STARTED(cause.message) : Object.assign(new Error(cause.message), { code: cause.code, permanent: false })
  return { send (_record, done) { done(error()) }, close: async () => {} }
}

/** The destination endpoint's batching latency (ms; 0 when batching is off or the destination is not Kafka). */
function batchingLatencyOf (resolved: ResolvedDataflow): number {
  const batching = (resolved.destination.spec.kafkaSettings as { batching?: { mode?: string, latencyMs?: number } } | undefined)?.batching
  return batching?.mode !== 'Disabled' && typeof batching?.latencyMs === 'number' ? batching.latencyMs : 0
}
