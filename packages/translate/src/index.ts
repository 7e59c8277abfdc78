/**
 * @flowgate/translate — the pure MQTT ⇄ Kafka translation rules of the seed's Kafka dataflow endpoint: no I/O, no
 * clock (time is `context.now`), no Node-only API (Uint8Array, TextEncoder/TextDecoder, Web Crypto's randomUUID), so
 * the same code runs in the gateway, in the HTTP translator and in an edge function.
 *
 * The surface is what other packages, services and tests import (scripts/lint-layers.mjs checks it); everything
 * else is the package's own, and its tests import the modules they test.
 */
export type {
  KafkaMessage, KafkaToMqttContext, MqttMessage, MqttProperties, PartitionStrategy, ToKafkaResult, ToMqttResult,
  TranslateContext, TranslateSettings
} from './types.js'
export { translateMqttToKafka, translateMqttMessage } from './mqtt-to-kafka.js'
export { translateKafkaToMqtt, translateKafkaMessage } from './kafka-to-mqtt.js'
export { staticPartition } from './partition-key.js'
export { javaCompatiblePartition } from './murmur2.js'
export { kafkaTopicProblem } from './topic-template.js'
export { userPropertiesFrom, toMqttJsUserProperties } from './user-properties.js'
export { headersFrom } from './kafka-headers.js'
export { base64Encode, base64Decode, BASE64_PATTERN } from './base64.js'
export { TranslateError } from './errors.js'
