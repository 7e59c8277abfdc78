/**
 * @flowgate/translate — the pure MQTT ⇄ Kafka translation rules of the seed's Kafka dataflow endpoint: no I/O, no
 * clock (time is `context.now`), no Node-only API (Uint8Array, TextEncoder/TextDecoder, Web Crypto's randomUUID), so
 * the same code runs in the gateway, in the HTTP translator and in an edge function.
 */
export type {
  CloudEventAttributes, Dropped, DropReason, KafkaMessage, KafkaRecord, KafkaToMqttContext, MqttMessage, MqttProperties,
  MqttPublish, PartitionStrategy, RemovedHeaders, ToKafkaOk, ToKafkaResult, ToMqttOk, ToMqttResult, TranslateContext,
  TranslateSettings, UserProperties
} from './types.js'
export { translateMqttToKafka, translateMqttMessage } from './mqtt-to-kafka.js'
export { translateKafkaToMqtt, translateKafkaMessage } from './kafka-to-mqtt.js'
export { remainingExpiry, type Expiry } from './message-expiry.js'
export { decidePartition, staticPartition, type PartitionDecision } from './partition-key.js'
export { murmur2, toPositive, javaCompatiblePartition } from './murmur2.js'
export { expandTopicTemplate, resolveKafkaTopic, resolveMqttTopic, kafkaTopicProblem, mqttTopicProblem, type TopicResolution } from './topic-template.js'
export {
  applyCloudEvents, CLOUD_EVENTS_HEADER_PREFIX, CLOUD_EVENTS_OPTIONAL, CLOUD_EVENTS_REQUIRED, CLOUD_EVENTS_SPECVERSION,
  CLOUD_EVENTS_TYPE
} from './cloud-events.js'
export { builtInPropertiesToHeaders } from './mqtt-properties-to-headers.js'
export { headersToMqttProperties, headerText } from './headers-to-mqtt-properties.js'
export { decodeAmqpValue } from './amqp-value.js'
export * from './header-names.js'
export { userPropertiesFrom, toMqttJsUserProperties, type MqttJsUserProperties } from './user-properties.js'
export { headersFrom, type KafkajsHeaders } from './kafka-headers.js'
export { base64Encode, base64Decode, BASE64_PATTERN } from './base64.js'
export { utf8Encode, utf8Decode, mqttStringOf, isMqttString, MQTT_STRING_MAX_BYTES } from './utf8.js'
export { TranslateError, FG_ERR_TRANSLATE_CONTEXT, FG_ERR_TRANSLATE_SETTINGS } from './errors.js'
