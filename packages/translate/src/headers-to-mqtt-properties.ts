/**
 * Kafka headers → MQTT 5 properties (seed "Kafka endpoint is a dataflow source"):
 *
 * - user property "Key": the record key as text, and "Timestamp": the record timestamp in ms since the epoch as
 *   text, first (the seed's table order); a key that is not UTF-8 gives no "Key" (counted as non-UTF-8).
 * - every other header becomes a user property, in order, repeated names kept — provided MQTT can carry it. MQTT 5
 *   strings are well-formed UTF-8 without U+0000 and at most 65 535 bytes (§1.5.4), so a header whose name or value is
 *   65 536 bytes or more is removed and counted as `tooLarge` (the seed: "headers that is >= 64KB"), and one that is
 *   not an MQTT string is removed and counted as `nonUtf8` — unless it is an AMQP-encoded value (Event Hubs with AMQP
 *   producers), which is decoded to text (amqp-value.ts) and counted as `amqpDecoded`. The message always goes.
 * - beyond the seed (DESIGN §6): the first header named like a built-in property restores that property, so
 *   MQTT → Kafka → MQTT is lossless: "Content Type" and "Response Topic" (text; a Response Topic with a wildcard is
 *   left a user property), "Correlation Data" (raw bytes — binary data in MQTT, so not subject to the UTF-8 rule),
 *   "Payload Format Indicator" ("0"/"1"), "Message Expiry Interval" (decimal seconds; honoured by kafka-to-mqtt.ts).
 *   A value that does not fit its property stays a plain user property.
 *
 * With copyMqttProperties Disabled none of this happens: the message has no user properties at all.
 */
import { decodeAmqpValue } from './amqp-value.js'
import {
  HEADER_CONTENT_TYPE, HEADER_CORRELATION_DATA, HEADER_MESSAGE_EXPIRY_INTERVAL, HEADER_PAYLOAD_FORMAT_INDICATOR,
  HEADER_RESPONSE_TOPIC, PROPERTY_KEY, PROPERTY_TIMESTAMP
} from './header-names.js'
import type { KafkaRecord, MqttPublish, RemovedHeaders } from './types.js'
import { isMqttString, MQTT_STRING_MAX_BYTES, mqttStringOf, utf8Encode } from './utf8.js'

export interface RestoredProperties {
  properties: MqttPublish['properties']
  removedHeaders: RemovedHeaders
  amqpDecoded: number
}

type TextValue = { text: string, amqp: boolean } | { problem: 'nonUtf8' | 'tooLarge' }

/**
 * A header value as MQTT text, or why not. Every AMQP constructor below 0x80 is also an ASCII character, so a value
 * can read both ways ("abc" is text and also the AMQP short 0x6263). The AMQP reading is taken only where the value
 * is not an MQTT string: not UTF-8 (every constructor from 0x80 up — str8, str32, double, uuid… — is a UTF-8
 * continuation byte, so such values never are), or holding U+0000 (as an AMQP int's zero bytes do: `0x71 0 0 1 0`).
 * Any value an MQTT string can hold therefore stays exactly that text, which keeps MQTT → Kafka → MQTT lossless; the
 * price is that an AMQP value whose bytes happen to be valid text (smallint 5 = `0x54 0x05` = "T\u0005", true = "A")
 * arrives as that text.
 */
export function headerText (value: Uint8Array): TextValue {
  if (value.length > MQTT_STRING_MAX_BYTES) return { problem: 'tooLarge' }
  const text = mqttStringOf(value)
  if (text !== undefined) return { text, amqp: false }
  const decoded = decodeAmqpValue(value)
  if (decoded !== undefined && isMqttString(decoded) && utf8Encode(decoded).length <= MQTT_STRING_MAX_BYTES) return { text: decoded, amqp: true }
  return { problem: 'nonUtf8' }
}

const MAX_EXPIRY = 0xffffffff

/** What nearly every record reports: shared, so a record with nothing removed allocates no counts. */
const NONE_REMOVED: RemovedHeaders = Object.freeze({ nonUtf8: 0, tooLarge: 0 })

export function headersToMqttProperties (record: Pick<KafkaRecord, 'key' | 'headers' | 'timestamp'>): RestoredProperties {
  const removed = { nonUtf8: 0, tooLarge: 0 }
  let amqpDecoded = 0
  const properties: MqttPublish['properties'] = { userProperties: [] }
  const user = properties.userProperties

  if (record.key !== null && record.key !== undefined) {
    // The key is not a header: only UTF-8 text becomes "Key" (no AMQP guess on arbitrary key bytes).
    if (record.key.length > MQTT_STRING_MAX_BYTES) removed.tooLarge++
    else {
      const text = mqttStringOf(record.key)
      if (text === undefined) removed.nonUtf8++
      else user.push([PROPERTY_KEY, text])
    }
  }
  if (record.timestamp !== undefined && record.timestamp !== null && Number.isFinite(Number(record.timestamp))) {
    user.push([PROPERTY_TIMESTAMP, String(record.timestamp)])
  }

  for (const [name, value] of record.headers ?? []) {
    if (utf8Encode(name).length > MQTT_STRING_MAX_BYTES) { removed.tooLarge++; continue }
    if (!isMqttString(name)) { removed.nonUtf8++; continue }
    if (name === HEADER_CORRELATION_DATA && properties.correlationData === undefined && value.length <= MQTT_STRING_MAX_BYTES) {
      properties.correlationData = value.slice()
      continue
    }
    const v = headerText(value)
    if ('problem' in v) { removed[v.problem]++; continue }
    if (v.amqp) amqpDecoded++
    if (restoreBuiltIn(properties, name, v.text)) continue
    user.push([name, v.text])
  }
  const removedHeaders = removed.nonUtf8 === 0 && removed.tooLarge === 0 ? NONE_REMOVED : removed
  return { properties, removedHeaders, amqpDecoded }
}

function restoreBuiltIn (p: MqttPublish['properties'], name: string, text: string): boolean {
  switch (name) {
    case HEADER_CONTENT_TYPE:
      if (p.contentType !== undefined) return false
      p.contentType = text
      return true
    case HEADER_RESPONSE_TOPIC:
      // MQTT 5 §3.3.2.3.5: a Response Topic is a topic name — no wildcards, not empty.
      if (p.responseTopic !== undefined || text === '' || text.includes('+') || text.includes('#')) return false
      p.responseTopic = text
      return true
    case HEADER_PAYLOAD_FORMAT_INDICATOR:
      if (p.payloadFormatIndicator !== undefined || (text !== '0' && text !== '1')) return false
      p.payloadFormatIndicator = text === '1'
      return true
    case HEADER_MESSAGE_EXPIRY_INTERVAL: {
      if (p.messageExpiryInterval !== undefined || !/^[0-9]{1,10}$/.test(text)) return false
      const n = Number(text)
      if (n > MAX_EXPIRY) return false
      p.messageExpiryInterval = n
      return true
    }
    default:
      return false
  }
}
