// What other packages use; the package's own tests import the modules they test.
export type { KafkaEndpoint, ResolvedSecrets } from './types.js'
export { KafkaEndpointError, toKafkaEndpointError } from './errors.js'
export { kafkaClientFor } from './client.js'
export { startGroupConsumer, type ConsumedRecord, type GroupBatch, type InstanceView, type KafkaClient } from './group-consumer.js'
export { registerCodecs } from './codecs.js'
export { createBatchingProducer, type SendRecord } from './batching-producer.js'
export { staticLookup } from './socket-factory.js'
