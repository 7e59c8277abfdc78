/**
 * MQTT 5 user properties as an ordered list of pairs (names may repeat, MQTT 5 §3.3.2.3.7), and the object shape
 * mqtt.js / mqtt-packet use (`{name: value | value[]}`). The object shape loses the interleaving of different names
 * and puts integer-like names first (JavaScript's own key order), so the list is what translation works on.
 */
import type { UserProperties } from './types.js'

export type MqttJsUserProperties = Record<string, string | string[]>

/** A list of pairs from either shape (a list is copied as is). */
export function userPropertiesFrom (input: UserProperties | MqttJsUserProperties | undefined | null): UserProperties {
  if (input == null) return []
  if (Array.isArray(input)) return input.map(([k, v]) => [String(k), String(v)])
  const out: UserProperties = []
  for (const [name, value] of Object.entries(input)) {
    if (Array.isArray(value)) for (const v of value) out.push([name, String(v)])
    else out.push([name, String(value)])
  }
  return out
}

/** The mqtt.js shape: a repeated name becomes an array of its values, in order. */
export function toMqttJsUserProperties (pairs: UserProperties): MqttJsUserProperties {
  const out: MqttJsUserProperties = {}
  for (const [name, value] of pairs) {
    const seen = Object.hasOwn(out, name) ? out[name] : undefined
    const next = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
    // A property named "__proto__" must stay a property: defineProperty for it, plain assignment (fast) otherwise.
    if (name === '__proto__') Object.defineProperty(out, name, { value: next, enumerable: true, writable: true, configurable: true })
    else out[name] = next
  }
  return out
}
