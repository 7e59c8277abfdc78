import { manifests, kafkaEndpoint, dataflow, type RigInfo } from '@flowgate/testkit'

/**
 * The dataflow the MQTT → Kafka benches measure: the embedded broker's `bench/#` into one topic over PLAINTEXT,
 * acks All, no compression, batching latencyMs 5 (the seed's defaults otherwise), in namespace `default`.
 */
export function benchFlow (r: RigInfo, topic: string): string {
  return manifests(
    kafkaEndpoint({ name: 'kafka-bench', namespace: 'default', host: r.listeners.plaintext, settings: { compression: 'None', kafkaAcks: 'All', batching: { mode: 'Enabled', latencyMs: 5 } } }),
    dataflow({ name: 'bench', namespace: 'default', source: { endpointRef: 'default', dataSources: ['bench/#'] }, destination: { endpointRef: 'kafka-bench', dataDestination: topic } })
  )
}
