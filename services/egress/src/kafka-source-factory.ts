/**
 * `FlowFactories.kafkaToMqttFlow`: from a resolved Kafka → MQTT dataflow to a running flow — the source endpoint's
 * Kafka client (every auth method, through kafkaClientFor and resolveSecrets), its consumer group,
 * its translation settings, and the MQTT destination.
 */
import type { Logger } from 'pino'
import { kafkaClientFor, KafkaEndpointError } from '@flowgate/kafka'
import { kafkaTopicProblem, type TranslateSettings } from '@flowgate/translate'
import type { EmbeddedBroker } from '@flowgate/mqtt'
import type { ResolvedDataflow } from './resolve.js'
import type { KafkaSourceObserver } from './flow-starters.js'
import { kafkaEndpointOf, resolveSecrets, type ResourceReader } from './endpoint-secrets.js'
import { openMqttDestination, publishFlags, mqttSettingsOf } from './mqtt-destination.js'
import { startKafkaToMqttFlow, type KafkaToMqttFlow, type KafkaToMqttFlowOptions } from './kafka-to-mqtt-flow.js'

/**
 * The consumer group: the source endpoint's `consumerGroupId` (the seed: it "takes effect only if the endpoint is
 * used as a source"). Without one, a stable name per dataflow — `flowgate-<namespace>-<dataflow>` — so a restart
 * resumes where the dataflow stopped. Two dataflows sharing an endpoint with a consumerGroupId share its group, as
 * the seed's model implies: the group's assigner (subscription-assigner.ts) gives each member only partitions of the
 * topics it subscribed to, so none is stranded; a topic in both dataflows is read once by the group (each record
 * reaches one of them). Give them different endpoints (or leave consumerGroupId out) for every record in both.
 */
export function consumerGroupOf (dataflow: ResolvedDataflow): string {
  const id = (dataflow.source.spec.kafkaSettings as { consumerGroupId?: string } | undefined)?.consumerGroupId
  return id && id.length > 0 ? id : `flowgate-${dataflow.namespace}-${dataflow.name}`
}

export interface KafkaSourceFactoryOptions {
  reader: ResourceReader
  embeddedBroker?: EmbeddedBroker
  flowOptions?: Partial<KafkaToMqttFlowOptions>
  instanceShare?: { index: number, of: number }
}

/** How many of a dataflow's `instanceCount` consumers run here: all of them, or this worker's share (k mod of = index). */
export function instancesHere (instanceCount: number, share?: { index: number, of: number }): number {
  const count = Math.max(1, instanceCount)
  if (share === undefined || share.of <= 1) return count
  return Math.floor(count / share.of) + (share.index < count % share.of ? 1 : 0)
}

export async function createKafkaToMqttFlow (
  dataflow: ResolvedDataflow,
  ctx: { instanceId: number, logger: Logger, observer: KafkaSourceObserver },
  opts: KafkaSourceFactoryOptions
): Promise<KafkaToMqttFlow> {
  const topics = dataflow.source.dataSources
  for (const topic of topics) {
    const problem = kafkaTopicProblem(topic)
    if (problem) throw new KafkaEndpointError({ code: 'FG_ERR_KAFKA_CONFIG', permanent: true, reason: `dataSources: "${topic}" is not a Kafka topic: ${problem}` })
  }
  const endpoint = kafkaEndpointOf(dataflow.source)
  const secrets = await resolveSecrets(endpoint, opts.reader)
  const clientId = `flowgate-${dataflow.namespace}-${dataflow.name}`
  const kafka = kafkaClientFor(endpoint, secrets, { clientId, logger: ctx.logger })
  const settings = mqttSettingsOf(dataflow.destination)
  const { qos, retain } = publishFlags(settings)
  const instances = instancesHere(dataflow.instanceCount, opts.instanceShare)
  return startKafkaToMqttFlow({
    name: dataflow.name,
    namespace: dataflow.namespace,
    kafka,
    groupId: consumerGroupOf(dataflow),
    topics,
    instances,
    instanceId: ctx.instanceId,
    translateSettings: dataflow.source.spec.kafkaSettings as TranslateSettings | undefined,
    destinationTopic: dataflow.destination.dataDestination,
    qos,
    retain,
    openPublisher: (i) => openMqttDestination(dataflow.destination, {
      reader: opts.reader,
      ...(opts.embeddedBroker ? { embeddedBroker: opts.embeddedBroker } : {}),
      clientId: `${dataflow.namespace}-${dataflow.name}-${ctx.instanceId}-${i}`,
      logger: ctx.logger.child({ component: 'mqtt-destination', instance: i })
    }),
    observer: ctx.observer,
    logger: ctx.logger,
    ...(opts.flowOptions ? { options: opts.flowOptions } : {})
  })
}
