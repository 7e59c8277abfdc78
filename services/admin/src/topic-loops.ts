/**
 * Dataflow pairs that feed each other (issue 18): A takes MQTT topics into Kafka topic T, B takes T back to an MQTT
 * topic that A's filters match, on the same broker and the same Kafka cluster. Flowgate marks its own publishes so
 * they do not re-enter (the all-in-one publishes past the interceptor; the split ingress keeps an egress' publishes
 * out of egress groups), but through an external MQTT broker, or a second gateway, every message would go round
 * forever — and even where it is stopped, the pair says something the user did not mean. Refused at apply time.
 *
 * Only literal topics are compared: a destination with `${inputTopic…}` depends on each message (the run-time
 * marking covers those).
 */
import { compileTopicFilter } from '@flowgate/mqtt'

interface Doc { kind?: string, metadata?: { name?: string, namespace?: string }, spec?: Record<string, unknown> }

export interface TopicLoop {
  /** `namespace/name` of the MQTT → Kafka dataflow and of the Kafka → MQTT one. */
  toKafka: string
  toMqtt: string
  kafkaTopic: string
  mqttTopic: string
}

interface Ends { key: string, sourceEndpoint: string, sourceTopics: string[], destinationEndpoint: string, destinationTopic: string }

/** A dataflow's two ends, or undefined when it is disabled or not of the shape a loop needs. */
function endsOf (d: Doc): Ends | undefined {
  const spec = d.spec as { mode?: string, operations?: Array<{ operationType?: string, sourceSettings?: { endpointRef?: string, dataSources?: string[] }, destinationSettings?: { endpointRef?: string, dataDestination?: string } }> } | undefined
  if (spec === undefined || spec.mode === 'Disabled') return undefined
  const source = spec.operations?.find((o) => o.operationType === 'Source')?.sourceSettings
  const destination = spec.operations?.find((o) => o.operationType === 'Destination')?.destinationSettings
  if (source?.endpointRef === undefined || destination?.endpointRef === undefined || destination.dataDestination === undefined) return undefined
  return {
    key: `${d.metadata?.namespace ?? 'default'}/${d.metadata?.name ?? ''}`,
    sourceEndpoint: source.endpointRef,
    sourceTopics: source.dataSources ?? [],
    destinationEndpoint: destination.endpointRef,
    destinationTopic: destination.dataDestination
  }
}

/**
 * The loops among `dataflows`. `endpoint(namespace, name)` gives an endpoint resource: two endpoints are the same
 * broker or cluster when they are the same resource or name the same host.
 */
export function topicLoops (dataflows: readonly Doc[], endpoint: (namespace: string, name: string) => Doc | undefined): TopicLoop[] {
  const where = (namespace: string, name: string): { type: string, place: string } | undefined => {
    const e = endpoint(namespace, name)
    const spec = e?.spec as { endpointType?: string, kafkaSettings?: { host?: string }, mqttSettings?: { host?: string } } | undefined
    if (spec?.endpointType === undefined) return undefined
    const host = spec.endpointType === 'Kafka' ? spec.kafkaSettings?.host : spec.mqttSettings?.host
    return { type: spec.endpointType, place: host !== undefined ? `host:${host.toLowerCase()}` : `endpoint:${namespace}/${name}` }
  }
  const literal = (topic: string): boolean => !topic.includes('${')
  const flows = dataflows.flatMap((d) => {
    const ends = endsOf(d)
    if (ends === undefined) return []
    const namespace = d.metadata?.namespace ?? 'default'
    const source = where(namespace, ends.sourceEndpoint)
    const destination = where(namespace, ends.destinationEndpoint)
    return source !== undefined && destination !== undefined ? [{ ...ends, source, destination }] : []
  })
  const loops: TopicLoop[] = []
  for (const a of flows) {
    if (a.source.type !== 'Mqtt' || a.destination.type !== 'Kafka' || !literal(a.destinationTopic)) continue
    const matchers = a.sourceTopics.map((filter) => {
      try { return compileTopicFilter(filter) } catch { return () => false }
    })
    for (const b of flows) {
      if (b.source.type !== 'Kafka' || b.destination.type !== 'Mqtt' || !literal(b.destinationTopic)) continue
      if (b.source.place !== a.destination.place || b.destination.place !== a.source.place) continue
      if (!b.sourceTopics.includes(a.destinationTopic)) continue
      if (!matchers.some((match) => match(b.destinationTopic))) continue
      loops.push({ toKafka: a.key, toMqtt: b.key, kafkaTopic: a.destinationTopic, mqttTopic: b.destinationTopic })
    }
  }
  return loops
}
