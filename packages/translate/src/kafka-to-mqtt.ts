/**
 * Kafka → MQTT: one result per record, in order — an MQTT publish with the headers it could carry (and counts of
 * those it could not), or a drop with its reason (`expired`, `invalid-topic`, `invalid-message`). Never throws on
 * record contents.
 *
 * A restored Message Expiry Interval shrinks by the time the record waited in the dataflow (`receivedAt` → `now`),
 * as on MQTT → Kafka; the time the record spent in Kafka is not counted (its timestamp may come from another clock,
 * or be the log-append time), so the header carries what the MQTT → Kafka leg left.
 */
import { headersToMqttProperties } from './headers-to-mqtt-properties.js'
import { remainingExpiry } from './message-expiry.js'
import { checkContext, droppedIfThrows, invalidMessage, resolveSettings } from './settings.js'
import { resolveMqttTopic } from './topic-template.js'
import type { KafkaMessage, KafkaToMqttContext, ToMqttResult, TranslateSettings } from './types.js'

const EMPTY = new Uint8Array(0)

export function translateKafkaToMqtt (messages: readonly KafkaMessage[], settings: TranslateSettings | undefined, ctx: KafkaToMqttContext): ToMqttResult[] {
  const s = resolveSettings(settings)
  checkContext(ctx)
  const qos = ctx.qos ?? 1
  const retain = ctx.retain ?? false
  return messages.map((m) => droppedIfThrows(() => translateOne(m, s.copyMqttProperties, ctx, qos, retain)))
}

export function translateKafkaMessage (m: KafkaMessage, settings: TranslateSettings | undefined, ctx: KafkaToMqttContext): ToMqttResult {
  const s = resolveSettings(settings)
  checkContext(ctx)
  // droppedIfThrows' rule, without a closure per record (this is the Kafka → MQTT flow's per-record call).
  try {
    return translateOne(m, s.copyMqttProperties, ctx, ctx.qos ?? 1, ctx.retain ?? false)
  } catch (err) {
    return invalidMessage(err)
  }
}

function translateOne (m: KafkaMessage, copy: boolean, ctx: KafkaToMqttContext, qos: 0 | 1 | 2, retain: boolean): ToMqttResult {
  const problem = shapeProblem(m)
  if (problem !== undefined) return { ok: false, reason: 'invalid-message', detail: problem }
  const restored = copy
    ? headersToMqttProperties(m)
    : { properties: { userProperties: [] }, removedHeaders: { nonUtf8: 0, tooLarge: 0 }, amqpDecoded: 0 }
  const props = restored.properties
  const expiry = remainingExpiry(props.messageExpiryInterval, m.receivedAt ?? undefined, ctx.now)
  if (expiry.expired) {
    return { ok: false, reason: 'expired', detail: `Message Expiry Interval ${props.messageExpiryInterval ?? ''} s elapsed: waited ${expiry.waitedSeconds} s` }
  }
  if (expiry.remaining !== undefined) props.messageExpiryInterval = expiry.remaining

  const topic = resolveMqttTopic(ctx.destinationTopic, m.topic)
  if (!topic.ok) return { ok: false, reason: 'invalid-topic', detail: topic.detail }

  return {
    ok: true,
    message: { topic: topic.topic, payload: m.value ?? EMPTY, qos, retain, properties: props },
    removedHeaders: restored.removedHeaders,
    amqpDecoded: restored.amqpDecoded
  }
}

function shapeProblem (m: KafkaMessage): string | undefined {
  if (typeof m !== 'object' || m === null) return 'a record must be an object'
  if (typeof m.topic !== 'string') return 'topic must be a string'
  if (m.key !== null && m.key !== undefined && !(m.key instanceof Uint8Array)) return 'key must be a Uint8Array or null'
  if (m.value !== null && m.value !== undefined && !(m.value instanceof Uint8Array)) return 'value must be a Uint8Array or null'
  if (m.headers !== undefined && m.headers !== null && !Array.isArray(m.headers)) return 'headers must be a list of [name, value]'
  for (const h of m.headers ?? []) {
    if (!Array.isArray(h) || typeof h[0] !== 'string' || !(h[1] instanceof Uint8Array)) return 'each header must be [name: string, value: Uint8Array]'
  }
  return undefined
}
