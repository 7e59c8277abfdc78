/**
 * `FlowFactories.kafkaDestination`: a dataflow's Kafka destination over @flowgate/kafka's batching producer — the
 * endpoint's client (every auth method, through kafkaClientFor and resolveSecrets) and one producer per dataflow.
 */
import type { LookupFunction } from 'node:net'
import type { Logger } from 'pino'
import { kafkaClientFor, createBatchingProducer, toKafkaEndpointError, type SendRecord } from '@flowgate/kafka'
import { kafkaEndpointOf, resolveSecrets, type ResourceReader } from './endpoint-secrets.js'
import type { ResolvedDataflow } from './resolve.js'
import type { KafkaDestination } from './ports.js'

/** The same bytes as a Buffer, without a copy (kafkajs wants Buffers; the translator returns Uint8Arrays). */
function bufferView (bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Most records carry no headers: one shared empty list (the producer only reads it). */
const noHeaders: SendRecord['headers'] = []

export async function openKafkaDestination (
  dataflow: ResolvedDataflow,
  ctx: { instanceId: number, logger: Logger, onProduceRequest?: (seconds: number) => void },
  opts: { reader: ResourceReader, lookup?: LookupFunction }
): Promise<KafkaDestination> {
  const endpoint = kafkaEndpointOf(dataflow.destination)
  const secrets = await resolveSecrets(endpoint, opts.reader)
  const kafka = kafkaClientFor(endpoint, secrets, { clientId: `flowgate-${dataflow.namespace}-${dataflow.name}`, logger: ctx.logger, ...(opts.lookup ? { lookup: opts.lookup } : {}) })
  const onProduceRequest = ctx.onProduceRequest
  const producer = createBatchingProducer(kafka, endpoint, {
    logger: ctx.logger,
    instanceId: ctx.instanceId,
    ...(onProduceRequest ? { onSendLatency: (l: { ms: number }) => onProduceRequest(l.ms / 1000) } : {})
  })
  return {
    send (record, done) {
      const sendRecord: SendRecord = {
        topic: record.topic,
        key: record.key ? bufferView(record.key) : null,
        value: bufferView(record.value),
        headers: record.headers.length === 0 ? noHeaders : record.headers.map(([k, v]) => [k, bufferView(v)])
      }
      if (record.partition !== undefined) sendRecord.partition = record.partition
      producer.sendWith(sendRecord, done)
    },
    connect: () => producer.connect().catch((err: unknown) => { throw toKafkaEndpointError(err) }),
    close: () => producer.close()
  }
}
