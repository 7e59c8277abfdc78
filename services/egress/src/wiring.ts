/**
 * The composition root: binds the runtime's `FlowFactories` to @flowgate/kafka, @flowgate/translate and
 * @flowgate/mqtt. Only index.ts imports this file; the parts it composes import one another, never it.
 */
import type { LookupFunction } from 'node:net'
import { registerCodecs } from '@flowgate/kafka'
import type { EmbeddedBroker } from '@flowgate/mqtt'
import type { FlowFactories } from './flow-starters.js'
import type { ResourceReader } from './endpoint-secrets.js'
import { openKafkaDestination } from './kafka-destination.js'
import { localTranslator } from './local-translator.js'
import { createKafkaToMqttFlow } from './kafka-source-factory.js'
import { createMqttNetworkSource, type MqttNetworkSourceOptions } from './mqtt-network-source.js'
import type { RemoteTranslator } from './remote-translator.js'

export interface FlowFactoryOptions {
  /** The embedded broker, for Kafka → MQTT flows whose destination is Flowgate's own broker. */
  embeddedBroker?: EmbeddedBroker
  /** Resolves Kafka broker names instead of DNS (`--kafka-host-alias name=address`). */
  lookup?: LookupFunction
  /** MQTT sources that are not in process (external brokers; the ingress in the split deployment) through mqtt.js. */
  mqttSource?: Partial<MqttNetworkSourceOptions>
  /** Translate through the translator service (the split deployment) instead of in process. */
  remoteTranslator?: RemoteTranslator
  /**
   * This process is worker `index` of `of` sharing one gateway (`flowgate start --workers`): a Kafka-source dataflow's
   * instanceCount is the gateway's, so this worker runs the instances k with k mod `of` = `index` — instanceCount 2
   * on two workers is one consumer on each, instanceCount 1 is one consumer on the first (its deliveries reach devices
   * on every worker through the shared broker).
   */
  instanceShare?: { index: number, of: number }
}

export function createFlowFactories (reader: ResourceReader, extra: FlowFactoryOptions = {}): FlowFactories {
  registerCodecs()
  return {
    kafkaToMqttFlow: (dataflow, ctx) => createKafkaToMqttFlow(dataflow, ctx, { reader, ...extra }),
    ...(extra.mqttSource !== undefined ? { mqttSource: createMqttNetworkSource(extra.mqttSource) } : {}),
    kafkaDestination: (dataflow, ctx) => openKafkaDestination(dataflow, ctx, { reader, ...(extra.lookup ? { lookup: extra.lookup } : {}) }),
    mqttToKafkaTranslator (dataflow, ctx) {
      if (extra.remoteTranslator !== undefined) {
        return extra.remoteTranslator.forDataflow({ endpoint: dataflow.destination.spec.kafkaSettings ?? {}, instanceId: ctx.instanceId, dataflow: dataflow.name, destinationTopic: dataflow.destination.dataDestination, targetName: dataflow.destination.name })
      }
      return localTranslator(dataflow, ctx)
    }
  }
}
