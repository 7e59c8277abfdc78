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
