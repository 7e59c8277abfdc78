/**
 * The Kafka header names of the MQTT 5 built-in properties, exactly as the seed's table writes them
 * ("Copy MQTT properties" → "Kafka endpoint is a destination"), and the two Kafka → MQTT user properties.
 */
export const HEADER_PAYLOAD_FORMAT_INDICATOR = 'Payload Format Indicator'
export const HEADER_RESPONSE_TOPIC = 'Response Topic'
export const HEADER_MESSAGE_EXPIRY_INTERVAL = 'Message Expiry Interval'
export const HEADER_CORRELATION_DATA = 'Correlation Data'
export const HEADER_CONTENT_TYPE = 'Content Type'

/** In the seed's table order, which is also the order they are written in. */
export const BUILT_IN_HEADER_NAMES = [
  HEADER_PAYLOAD_FORMAT_INDICATOR,
  HEADER_RESPONSE_TOPIC,
  HEADER_MESSAGE_EXPIRY_INTERVAL,
  HEADER_CORRELATION_DATA,
  HEADER_CONTENT_TYPE
] as const

/** Kafka → MQTT (seed "Kafka endpoint is a dataflow source"). */
export const PROPERTY_KEY = 'Key'
export const PROPERTY_TIMESTAMP = 'Timestamp'
