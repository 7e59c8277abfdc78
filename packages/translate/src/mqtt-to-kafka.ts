/**
 * MQTT → Kafka: one result per message, in order — a record, or a drop with its reason (`expired`,
 * `invalid-topic`, `invalid-message`). Message contents never throw.
 */
import { applyCloudEvents } from './cloud-events.js'
import { remainingExpiry } from './message-expiry.js'
import { builtInPropertiesToHeaders, type Headers } from './mqtt-properties-to-headers.js'
import { decidePartition } from './partition-key.js'
import { checkContext, droppedIfThrows, invalidMessage, resolveSettings, uuidGenerator, type ResolvedSettings } from './settings.js'
import { resolveKafkaTopic } from './topic-template.js'
import type { MqttMessage, ToKafkaOk, ToKafkaResult, TranslateContext, TranslateSettings } from './types.js'
import { userPropertiesFrom } from './user-properties.js'
import { utf8Encode } from './utf8.js'

export function translateMqttToKafka (messages: readonly MqttMessage[], settings: TranslateSettings | undefined, ctx: TranslateContext): ToKafkaResult[] {
  const s = resolveSettings(settings)
  checkContext(ctx)
  const randomUUID = uuidGenerator(ctx)
  return messages.map((m) => droppedIfThrows(() => translateOne(m, s, ctx, randomUUID)))
}

/** One message; `translateMqttToKafka` with a single message, for a caller translating at send time. */
export function translateMqttMessage (m: MqttMessage, settings: TranslateSettings | undefined, ctx: TranslateContext): ToKafkaResult {
  const s = resolveSettings(settings)
  checkContext(ctx)
  // droppedIfThrows inline: this runs once per message on the gateway's path, where a closure each is garbage each.
  try {
    return translateOne(m, s, ctx, uuidGenerator(ctx))
  } catch (err) {
    return invalidMessage(err)
  }
}

function translateOne (m: MqttMessage, s: ResolvedSettings, ctx: TranslateContext, randomUUID: () => string): ToKafkaResult {
  const problem = shapeProblem(m)
  if (problem !== undefined) return { ok: false, reason: 'invalid-message', detail: problem }
  const props = m.properties

  // Expiry is a property of the message, not of the header copy: it applies with copyMqttProperties Disabled too.
  const expiry = remainingExpiry(props?.messageExpiryInterval ?? undefined, m.receivedAt ?? undefined, ctx.now)
  if (expiry.expired) {
    return { ok: false, reason: 'expired', detail: `Message Expiry Interval ${props?.messageExpiryInterval ?? ''} s elapsed: waited ${expiry.waitedSeconds} s` }
  }

  const topic = resolveKafkaTopic(ctx.destinationTopic, m.topic)
  if (!topic.ok) return { ok: false, reason: 'invalid-topic', detail: topic.detail }

  const userProperties = userPropertiesFrom(props?.userProperties)
  const partition = decidePartition({
    strategy: s.partitionStrategy,
    partitionKeyProperty: s.partitionKeyProperty,
    sourceTopic: m.topic,
    properties: props,
    userProperties,
    destinationTopic: topic.topic,
    instanceId: ctx.instanceId,
    partitionCount: ctx.partitions?.(topic.topic)
  })

  const pairs = applyCloudEvents(userProperties, s.cloudEventAttributes, {
    outputTopic: topic.topic,
    contentType: props?.contentType,
    targetName: ctx.targetName ?? ctx.dataflow,
    now: ctx.now,
    randomUUID
  })
  const headers: Headers = s.copyMqttProperties ? builtInPropertiesToHeaders(props, expiry.remaining) : []
  for (const p of pairs) {
    // With copyMqttProperties Disabled only the CloudEvents headers go: that is a setting of its own.
    if (s.copyMqttProperties || p.cloudEvent) headers.push([p.name, utf8Encode(p.value)])
  }

  const record: ToKafkaOk['record'] = { topic: topic.topic, key: partition.key, value: m.payload, headers }
  if (partition.partition !== undefined) record.partition = partition.partition
  return partition.staticPartitionOf !== undefined ? { ok: true, record, staticPartitionOf: partition.staticPartitionOf } : { ok: true, record }
}

function shapeProblem (m: MqttMessage): string | undefined {
  if (typeof m !== 'object' || m === null) return 'a message must be an object'
  if (typeof m.topic !== 'string') return 'topic must be a string'
  if (!(m.payload instanceof Uint8Array)) return 'payload must be a Uint8Array'
  const p = m.properties
  if (p === undefined || p === null) return undefined
  if (typeof p !== 'object') return 'properties must be an object'
  const mei = p.messageExpiryInterval
  if (mei !== undefined && mei !== null && (!Number.isInteger(mei) || mei < 0 || mei > 0xffffffff)) return 'messageExpiryInterval must be an integer of 0..4294967295'
  if (p.correlationData !== undefined && p.correlationData !== null && !(p.correlationData instanceof Uint8Array)) return 'correlationData must be a Uint8Array'
  if (p.contentType !== undefined && p.contentType !== null && typeof p.contentType !== 'string') return 'contentType must be a string'
  if (p.responseTopic !== undefined && p.responseTopic !== null && typeof p.responseTopic !== 'string') return 'responseTopic must be a string'
  return undefined
}
