/**
 * A dataflow endpoint's Kafka client: its kafkajs configuration (every auth method, client-config.ts) with logs into
 * the caller's pino logger. The one place a kafkajs client is constructed for a dataflow, so the services above
 * never import kafkajs.
 */
import { Kafka } from 'kafkajs'
import { endpointKafkaConfig, type KafkaConfigOptions } from './client-config.js'
import { pinoLogCreator } from './log-creator.js'
import type { KafkaClient } from './group-consumer.js'
import type { KafkaEndpoint, ResolvedSecrets } from './types.js'

export function kafkaClientFor (endpoint: KafkaEndpoint, secrets: ResolvedSecrets, opts: KafkaConfigOptions): KafkaClient {
  const { config } = endpointKafkaConfig(endpoint, secrets, opts)
  return new Kafka({ ...config, logCreator: pinoLogCreator(opts.logger) })
}
