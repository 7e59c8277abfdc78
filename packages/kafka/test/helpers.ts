import { pino } from 'pino'
import type { KafkaEndpoint } from '../src/types.js'

export const silent = pino({ level: 'silent' })

/** An endpoint as @flowgate/resources hands it over after defaults (the seed's defaults). */
export function endpoint (over: Partial<KafkaEndpoint> = {}): KafkaEndpoint {
  return {
    name: 'kafka',
    namespace: 'test',
    host: '127.0.0.1:9092',
    authentication: { method: 'Anonymous' },
    tls: { mode: 'Disabled' },
    compression: 'None',
    batching: { mode: 'Enabled', latencyMs: 5, maxMessages: 100_000, maxBytes: 1_000_000 },
    partitionStrategy: 'Default',
    kafkaAcks: 'All',
    copyMqttProperties: 'Enabled',
    cloudEventAttributes: 'Propagate',
    ...over
  }
}

/** A group consumer's settings for tests: reads new topics from their beginning, short waits. */
export const testGroupOptions = {
  fromBeginning: true,
  partitionsConsumedConcurrently: 1,
  metadataMaxAgeMs: 10_000,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 60_000,
  lagIntervalMs: 60_000,
  maxBytesPerPartition: 1024 * 1024
}
