/**
 * Kafka headers as the ordered list translation uses, from the object shape kafkajs gives a consumer
 * (`{name: Buffer | string | Array<Buffer | string>}`): names in first-seen order, a repeated name's values in order.
 */
import { utf8Encode } from './utf8.js'

export type KafkajsHeaders = Record<string, Uint8Array | string | Array<Uint8Array | string> | undefined>

// At module level: a closure inside the per-record function cost a `__name` call per record under tsx.
function bytes (v: Uint8Array | string): Uint8Array { return typeof v === 'string' ? utf8Encode(v) : v }

export function headersFrom (input: Array<[string, Uint8Array]> | KafkajsHeaders | undefined | null): Array<[string, Uint8Array]> {
  if (input == null) return []
  if (Array.isArray(input)) return input
  const out: Array<[string, Uint8Array]> = []
  // for…in over own names, not Object.entries: no array per record for the (usually empty) headers object.
  for (const name in input) {
    if (!Object.hasOwn(input, name)) continue
    const value = input[name]
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) out.push([name, bytes(v)])
    else out.push([name, bytes(value)])
  }
  return out
}
