/**
 * The shapes translation works on. Bytes are `Uint8Array` (a Node `Buffer` is one), never `Buffer` itself, so the
 * library runs unchanged in edge runtimes; time is always a parameter (`now`, `receivedAt`, ms since the epoch).
 */

/** MQTT 5 user properties: ordered, and the same name may repeat (MQTT 5 §3.3.2.3.7). */
export type UserProperties = Array<[string, string]>

export interface MqttProperties {
  /** `1`/`true`: the payload is UTF-8; `0`/`false`: bytes. mqtt.js uses a boolean, the wire a byte. */
  payloadFormatIndicator?: boolean | 0 | 1
  /** Seconds; absent means the message never expires. */
  messageExpiryInterval?: number
  contentType?: string
  responseTopic?: string
  correlationData?: Uint8Array
  userProperties?: UserProperties
  /** Never forwarded: a topic alias belongs to one network connection (seed: "Dataflows never receive these"). */
  topicAlias?: number
  /** Never forwarded: it names the receiver's subscription, not the message. */
  subscriptionIdentifier?: number | number[]
}

/** An MQTT message as the dataflow received it. */
export interface MqttMessage {
  topic: string
  payload: Uint8Array
  qos?: 0 | 1 | 2
  retain?: boolean
  properties?: MqttProperties
  /** When the dataflow received it (ms); the Message Expiry Interval shrinks by the time waited since. Default: `now`. */
  receivedAt?: number
}

/** A Kafka record: the output of MQTT → Kafka and the input of Kafka → MQTT. */
export interface KafkaRecord {
  topic: string
  key: Uint8Array | null
  /** `null` is a tombstone (input only; MQTT → Kafka always writes the payload). */
  value: Uint8Array | null
  /** Ordered; a name may repeat (Kafka headers are a list, not a map). */
  headers: Array<[string, Uint8Array]>
  /** Set by MQTT → Kafka only where the partition is decided here (see `partition-key.ts`). */
  partition?: number
  /** Record timestamp, ms since the epoch (Kafka → MQTT input). */
  timestamp?: number
}

/** A Kafka record as the dataflow consumed it. */
export interface KafkaMessage extends KafkaRecord {
  offset?: string
  /** When the dataflow consumed it (ms); a restored Message Expiry Interval shrinks by the time waited since. Default: `now`. */
  receivedAt?: number
}

/** The MQTT message Kafka → MQTT produces: built-in properties restored, user properties in order. */
export interface MqttPublish {
  topic: string
  payload: Uint8Array
  qos: 0 | 1 | 2
  retain: boolean
  properties: {
    payloadFormatIndicator?: boolean
    messageExpiryInterval?: number
    contentType?: string
    responseTopic?: string
    correlationData?: Uint8Array
    userProperties: UserProperties
  }
}

export type PartitionStrategy = 'Default' | 'Static' | 'Topic' | 'Property'
export type CloudEventAttributes = 'Propagate' | 'CreateOrRemap'

/** The part of the seed's `kafkaSettings` that decides translation. Other fields are ignored. */
export interface TranslateSettings {
  /** Default `Enabled` (seed: "By default, the copy MQTT properties setting is enabled"). */
  copyMqttProperties?: 'Enabled' | 'Disabled'
  /** Default `Default`. */
  partitionStrategy?: PartitionStrategy
  partitionKeyProperty?: string
  /** Absent: no CloudEvents handling at all; headers are the plain property copy. */
  cloudEventAttributes?: CloudEventAttributes
}

export interface TranslateContext {
  /** The time of translation (ms since the epoch): expiry and CloudEvents `time` are computed from it. */
  now: number
  /** The dataflow instance id (the `Static` partition strategy). */
  instanceId: number
  /** The dataflow's name. */
  dataflow: string
  /** The destination topic, which may use `${inputTopic}` and `${inputTopic.N}`. */
  destinationTopic: string
  /** The CloudEvents `source` is `aio://<targetName>`; default: the dataflow's name. */
  targetName?: string
  /** The partition count of a Kafka topic when known: lets `Static`, `Topic` and `Property` decide the partition here. */
  partitions?: (topic: string) => number | undefined
  /** CloudEvents `id` generator; default `globalThis.crypto.randomUUID()`. */
  randomUUID?: () => string
}

export interface KafkaToMqttContext extends TranslateContext {
  /** QoS of the MQTT publish; default 1. */
  qos?: 0 | 1 | 2
  /** Retain flag of the MQTT publish; default false. */
  retain?: boolean
}

export type DropReason = 'expired' | 'invalid-topic' | 'invalid-message'

export interface Dropped { ok: false, reason: DropReason, detail: string }

export interface ToKafkaOk {
  ok: true
  record: KafkaRecord & { value: Uint8Array }
  /**
   * Set when the strategy is `Static` and the partition count was not known here (`record.partition` absent): the
   * producer sends the record to partition `staticPartitionOf mod partitionCount`.
   */
  staticPartitionOf?: number
}
export type ToKafkaResult = ToKafkaOk | Dropped

/** Headers Kafka → MQTT could not carry, counted: the message still goes (seed "UTF-8 / Binary Mismatches", "≥64KB"). */
export interface RemovedHeaders {
  /** Not well-formed UTF-8 (or holding U+0000, which an MQTT string may not), nor a decodable AMQP value. */
  nonUtf8: number
  /** Name or value of 65 536 bytes or more: an MQTT string holds at most 65 535. */
  tooLarge: number
}

export interface ToMqttOk {
  ok: true
  message: MqttPublish
  removedHeaders: RemovedHeaders
  /** Header values that were AMQP-encoded (Event Hubs with AMQP producers) and were decoded to text. */
  amqpDecoded: number
}
export type ToMqttResult = ToMqttOk | Dropped
