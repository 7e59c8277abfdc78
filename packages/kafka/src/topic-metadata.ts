import kafkajs, { type Admin, type Kafka, type PartitionMetadata } from 'kafkajs'
import type { Logger } from 'pino'
import { classifyKafkaError, KafkaEndpointError } from './errors.js'
import { defaults } from './options.js'

const { ConfigResourceTypes } = kafkajs // not among the names Node detects in kafkajs' CommonJS exports

export interface TopicInfo {
  partitions: PartitionMetadata[]
  /** The topic's `max.message.bytes` (Kafka's default when it can't be read, e.g. on Event Hubs). */
  maxMessageBytes: number
  fetchedAt: number
}

/**
 * Partition counts and size limits per topic, read through an admin client of its own (which never asks the broker
 * to auto-create a topic) and cached for a while. A missing topic fails at once with FG_ERR_KAFKA_TOPIC_MISSING
 * instead of after the producer's retries.
 */
export class TopicMetadataCache {
  private admin: Admin | undefined
  private connecting: Promise<Admin> | undefined
  private readonly cache = new Map<string, TopicInfo>()
  private readonly loading = new Map<string, Promise<TopicInfo>>()

  constructor (private readonly kafka: Kafka, private readonly logger: Logger, private readonly ttlMs: number = defaults.topicMetadataTtlMs) {}

  private async connected (): Promise<Admin> {
    if (this.admin != null) return this.admin
    this.connecting ??= (async () => {
      const admin = this.kafka.admin({ retry: { ...defaults.metadataRetry } })
      try {
        await admin.connect()
      } catch (err) {
        this.connecting = undefined
        throw err
      }
      this.admin = admin
      return admin
    })()
    return await this.connecting
  }

  invalidate (topic: string): void {
    this.cache.delete(topic)
  }

  async get (topic: string): Promise<TopicInfo> {
    const hit = this.cache.get(topic)
    if (hit != null && Date.now() - hit.fetchedAt < this.ttlMs) return hit
    let p = this.loading.get(topic)
    if (p == null) {
      p = this.load(topic).finally(() => this.loading.delete(topic))
      this.loading.set(topic, p)
    }
    return await p
  }

  private async load (topic: string): Promise<TopicInfo> {
    const admin = await this.connected()
    const [meta, limit] = await Promise.all([
      admin.fetchTopicMetadata({ topics: [topic] }),
      this.maxMessageBytes(admin, topic)
    ])
    const partitions = meta.topics.find((t) => t.name === topic)?.partitions ?? []
    if (partitions.length === 0) {
      throw new KafkaEndpointError({ code: 'FG_ERR_KAFKA_TOPIC_MISSING', permanent: true, reason: `topic ${topic} does not exist` })
    }
    const info = { partitions: [...partitions].sort((a, b) => a.partitionId - b.partitionId), maxMessageBytes: limit, fetchedAt: Date.now() }
    this.cache.set(topic, info)
    return info
  }

  private async maxMessageBytes (admin: Admin, topic: string): Promise<number> {
    try {
      const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }] })
      const value = res.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue
      const n = Number(value)
      if (Number.isFinite(n) && n > 0) return n
    } catch (err) {
      const c = classifyKafkaError(err)
      if (c.code === 'FG_ERR_KAFKA_TOPIC_MISSING') throw new KafkaEndpointError(c, { cause: err })
      this.logger.debug({ topic, code: c.code }, 'cannot read max.message.bytes; assuming Kafka\'s default')
    }
    return defaults.defaultMaxMessageBytes
  }

  async close (): Promise<void> {
    const admin = this.admin
    this.admin = undefined
    this.connecting = undefined
    await admin?.disconnect().catch(() => {})
  }
}
