import type { Consumer, Kafka, KafkaMessage } from 'kafkajs'
import type { Logger } from 'pino'
import type { KafkaEndpoint } from './types.js'
import { configError } from './errors.js'

export interface SourceBatch {
  topic: string
  partition: number
  /** In offset order; never empty. */
  messages: KafkaMessage[]
}

export interface SourceConsumerOptions {
  /** Default: the endpoint's `consumerGroupId`. */
  groupId?: string
  topics: Array<string | RegExp>
  /** Resolves once every message of the batch is handled (published to MQTT): only then is the offset committed. */
  onBatch: (batch: SourceBatch) => Promise<void>
  logger?: Logger
  /** Partitions handled at the same time (each partition stays in order). Default 1. */
  partitionsConsumedConcurrently?: number
  /** Where a group without committed offsets starts. Default: the end (only new records). */
  fromBeginning?: boolean
}

export interface SourceConsumer {
  start: () => Promise<void>
  stop: () => Promise<void>
  readonly consumer: Consumer
}

/**
 * A consumer for the Kafka → MQTT direction: at-least-once. Offsets are resolved and committed per partition only
 * after `onBatch` resolved; when it throws, nothing is committed and kafkajs fetches the batch again.
 */
export function createSourceConsumer (kafka: Kafka, endpoint: KafkaEndpoint, opts: SourceConsumerOptions): SourceConsumer {
  const groupId = opts.groupId ?? endpoint.consumerGroupId
  if (!groupId) throw configError(`endpoint ${endpoint.namespace}/${endpoint.name} has no consumerGroupId`)
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false })
  const logger = opts.logger?.child({ component: 'kafka-consumer', groupId })

  return {
    consumer,
    async start () {
      await consumer.connect()
      await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? false })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return
          await opts.onBatch({ topic: batch.topic, partition: batch.partition, messages: batch.messages })
          const last = batch.messages[batch.messages.length - 1]!.offset
          resolveOffset(last)
          // Kafka's committed offset is the next one to read.
          await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }] })
          await heartbeat()
          logger?.debug({ topic: batch.topic, partition: batch.partition, offset: last }, 'committed')
        }
      })
    },
    async stop () {
      await consumer.disconnect()
    }
  }
}
