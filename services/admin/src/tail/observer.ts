import type { TailHub } from './hub.js'
import { bytesText, headerObject, jsonSafe, type Json } from './frame.js'

/** The shapes the egress runtime hands its observer (@flowgate/egress RuntimeObserver), restated to keep admin free of egress. */
export interface SentMessage { topic: string, payload: Uint8Array, qos: number, retain: boolean, properties?: Record<string, unknown> }
export interface SentRecord { topic: string, key: Uint8Array | null, value: Uint8Array, headers: Array<[string, Uint8Array]>, partition?: number }

/**
 * The egress side of the tail: `sentToKafka` runs for every record Kafka acknowledged, so it returns before
 * touching the message unless somebody is listening.
 */
export interface ConsumedRecord { topic: string, offset?: string, key: Uint8Array | null, headers: Array<[string, Uint8Array]> }
export interface PublishedMessage { topic: string, payload: Uint8Array, qos: number, retain: boolean, properties?: Record<string, unknown> }

export function tailObserver (hub: TailHub, now: () => number = Date.now): {
  sentToKafka: (flow: { name: string, namespace: string }, message: SentMessage, record: SentRecord, result: { partition: number, offset: string | null }) => void
  sentToMqtt: (flow: { name: string, namespace: string }, source: ConsumedRecord, publish: PublishedMessage) => void
} {
  return {
    sentToKafka (flow, message, record, result) {
      if (!hub.hasReaders) return
      hub.publishLazy({ dataflow: flow.name, namespace: flow.namespace, direction: 'mqtt-to-kafka', mqttTopic: message.topic }, () => ({
        ts: new Date(now()).toISOString(),
        dataflow: flow.name,
        namespace: flow.namespace,
        direction: 'mqtt-to-kafka',
        source: { topic: message.topic, properties: { ...jsonSafe(message.properties ?? {}) as Record<string, Json>, qos: message.qos, retain: message.retain } },
        destination: {
          topic: record.topic,
          partition: result.partition,
          offset: result.offset ?? '', // acks Zero: the broker does not say
          ...(record.key !== null ? { key: bytesText(record.key) } : {}),
          headers: headerObject(record.headers)
        },
        payload: record.value
      }))
    },
    sentToMqtt (flow, source, publish) {
      if (!hub.hasReaders) return
      hub.publishLazy({ dataflow: flow.name, namespace: flow.namespace, direction: 'kafka-to-mqtt', mqttTopic: publish.topic }, () => ({
        ts: new Date(now()).toISOString(),
        dataflow: flow.name,
        namespace: flow.namespace,
        direction: 'kafka-to-mqtt',
        source: {
          topic: source.topic,
          ...(source.offset !== undefined ? { offset: source.offset } : {}),
          ...(source.key !== null ? { key: bytesText(source.key) } : {}),
          headers: headerObject(source.headers)
        },
        destination: { topic: publish.topic, properties: { ...jsonSafe(publish.properties ?? {}) as Record<string, Json>, qos: publish.qos, retain: publish.retain } },
        payload: publish.payload
      }))
    }
  }
}
