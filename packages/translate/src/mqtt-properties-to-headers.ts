/**
 * MQTT 5 built-in properties → Kafka headers (seed "Kafka endpoint is a destination"): each under the seed's name,
 * text values as UTF-8, Correlation Data as its raw bytes. Topic Alias and Subscription Identifier are never
 * forwarded (they describe a connection and a subscription, not the message). User properties follow, in order,
 * repeated names kept.
 *
 * A user property named like a built-in ("Content Type"…): the seed leaves undefined which one wins; Flowgate writes
 * both, the built-in first. Kafka → MQTT restores the first header of each built-in name, so such a message also
 * survives the round trip.
 */
import {
  HEADER_CONTENT_TYPE, HEADER_CORRELATION_DATA, HEADER_MESSAGE_EXPIRY_INTERVAL, HEADER_PAYLOAD_FORMAT_INDICATOR,
  HEADER_RESPONSE_TOPIC
} from './header-names.js'
import type { MqttProperties } from './types.js'
import { utf8Encode } from './utf8.js'

export type Headers = Array<[string, Uint8Array]>

/** `remainingExpiry`: the interval already reduced by the time waited (message-expiry.ts), or undefined. */
export function builtInPropertiesToHeaders (properties: MqttProperties | undefined, remainingExpiry: number | undefined): Headers {
  const headers: Headers = []
  if (properties === undefined) return headers
  const pfi = properties.payloadFormatIndicator
  if (pfi !== undefined && pfi !== null) {
    headers.push([HEADER_PAYLOAD_FORMAT_INDICATOR, utf8Encode(pfi === true || pfi === 1 ? '1' : '0')])
  }
  if (typeof properties.responseTopic === 'string') headers.push([HEADER_RESPONSE_TOPIC, utf8Encode(properties.responseTopic)])
  if (remainingExpiry !== undefined) headers.push([HEADER_MESSAGE_EXPIRY_INTERVAL, utf8Encode(String(remainingExpiry))])
  if (properties.correlationData instanceof Uint8Array) headers.push([HEADER_CORRELATION_DATA, properties.correlationData.slice()])
  if (typeof properties.contentType === 'string') headers.push([HEADER_CONTENT_TYPE, utf8Encode(properties.contentType)])
  return headers
}

/** The value of the header a built-in property would be written as, by that header's name (for `Property` keys). */
export function builtInHeaderValue (properties: MqttProperties | undefined, name: string): Uint8Array | undefined {
  if (name === HEADER_MESSAGE_EXPIRY_INTERVAL) return undefined // changes as the message waits: no stable key
  for (const [n, v] of builtInPropertiesToHeaders(properties, undefined)) if (n === name) return v
  return undefined
}
