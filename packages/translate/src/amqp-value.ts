/**
 * Decoding of the AMQP 1.0 primitive encodings Azure Event Hubs writes into Kafka header values when the producer
 * used AMQP (seed "Property translation when using Event Hubs and producers that use AMQP": `"foo":"bar"` arrives
 * as `0xA1 0x03 "bar"`). Encodings: OASIS AMQP 1.0 part 1 §1.6 (types.html#section-primitive-type-definitions).
 *
 * A value decodes only when the whole of it is exactly one primitive (constructor byte, length and content agree);
 * anything else (described types, lists, maps, arrays, decimals, trailing bytes) is `undefined`. Every constructor
 * below 0x80 is also an ASCII character ("@", "A", "abc"…): the caller decides between the two readings
 * (`headerText` in headers-to-mqtt-properties.ts — plain text wins unless it is implausible).
 *
 * Text forms:
 * - strings and symbols: their text;  null: "null"; booleans: "true" / "false"
 * - integers: decimal (64-bit ones through BigInt, exact)
 * - double: JavaScript's shortest round-trip form (11.9 → "11.9"); float: the shortest form that reads back to the same
 *   32-bit float (11.9f → "11.9", not "11.899999618530273")
 * - timestamp: milliseconds since the Unix epoch as decimal text — the same form the seed gives Kafka's own
 *   "Timestamp" property, and exact for every 64-bit value (an ISO date would not be)
 * - uuid: the canonical lower-case 8-4-4-4-12 form;  char: the character
 * - binary (0xA0 / 0xB0): the wrapper is removed and the bytes go through the same rule as a raw header value — text
 *   when they are MQTT UTF-8, otherwise the header is dropped as non-UTF-8. No base64 is invented: the seed asks
 *   producers that need binary in properties to base64 it themselves, and a consumer could not tell an invented
 *   base64 from text.
 */
import { mqttStringOf } from './utf8.js'

export function decodeAmqpValue (bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = bytes.length
  const code = bytes[0]!
  const fixed = (size: number): boolean => n === 1 + size
  switch (code) {
    case 0x40: return fixed(0) ? 'null' : undefined
    case 0x41: return fixed(0) ? 'true' : undefined
    case 0x42: return fixed(0) ? 'false' : undefined
    case 0x56: return fixed(1) && bytes[1]! <= 1 ? String(bytes[1] === 1) : undefined
    case 0x43: case 0x44: return fixed(0) ? '0' : undefined // uint0, ulong0
    case 0x50: case 0x52: case 0x53: return fixed(1) ? String(bytes[1]) : undefined // ubyte, smalluint, smallulong
    case 0x51: case 0x54: case 0x55: return fixed(1) ? String(view.getInt8(1)) : undefined // byte, smallint, smalllong
    case 0x60: return fixed(2) ? String(view.getUint16(1)) : undefined
    case 0x61: return fixed(2) ? String(view.getInt16(1)) : undefined
    case 0x70: return fixed(4) ? String(view.getUint32(1)) : undefined
    case 0x71: return fixed(4) ? String(view.getInt32(1)) : undefined
    case 0x80: return fixed(8) ? view.getBigUint64(1).toString() : undefined
    case 0x81: return fixed(8) ? view.getBigInt64(1).toString() : undefined
    case 0x83: return fixed(8) ? view.getBigInt64(1).toString() : undefined // timestamp: ms since the epoch
    case 0x72: return fixed(4) ? shortestFloat32(view.getFloat32(1)) : undefined
    case 0x82: return fixed(8) ? numberText(view.getFloat64(1)) : undefined
    case 0x73: { // char: one UTF-32BE code point
      if (!fixed(4)) return undefined
      const cp = view.getUint32(1)
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined
      return String.fromCodePoint(cp)
    }
    case 0x98: return fixed(16) ? uuidText(bytes.subarray(1)) : undefined
    case 0xa1: case 0xa3: return variable(bytes, 1, mqttStringOf) // str8-utf8, sym8
    case 0xb1: case 0xb3: return variable(bytes, 4, mqttStringOf) // str32-utf8, sym32
    case 0xa0: return variable(bytes, 1, mqttStringOf) // vbin8
    case 0xb0: return variable(bytes, 4, mqttStringOf) // vbin32
    default: return undefined
  }
}

function variable (bytes: Uint8Array, width: 1 | 4, text: (b: Uint8Array) => string | undefined): string | undefined {
  if (bytes.length < 1 + width) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const len = width === 1 ? bytes[1]! : view.getUint32(1)
  if (bytes.length !== 1 + width + len) return undefined
  return text(bytes.subarray(1 + width))
}

function numberText (x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Infinity) return 'Infinity'
  if (x === -Infinity) return '-Infinity'
  return Object.is(x, -0) ? '-0' : String(x)
}

function shortestFloat32 (x: number): string {
  if (!Number.isFinite(x)) return numberText(x)
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p)
    if (Math.fround(Number(s)) === x) return numberText(Number(s))
  }
  return numberText(x)
}

function uuidText (b: Uint8Array): string {
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
