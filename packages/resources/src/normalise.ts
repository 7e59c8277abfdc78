/**
 * Input leniency, driven by the schemas so it never drifts from them (DESIGN §2): enum values and field names
 * match case-insensitively (the seed writes `Source` and `source`, `cloudEventAttributes` and
 * `CloudEventAttributes`) and are rewritten to the schema's spelling before validation. Anything that matches
 * nothing is left alone for the validator to report.
 */

type Schema = Record<string, unknown>
type Json = unknown

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Returns a normalised copy of `value` (the input is not changed). */
export function normaliseBySchema (schema: Schema, value: Json): Json {
  if (Array.isArray(value)) {
    const items = schema.items
    return isObject(items) ? value.map((v) => normaliseBySchema(items, v)) : value.slice()
  }
  if (typeof value === 'string') return canonicalEnum(schema, value)
  if (!isObject(value)) return value

  const properties = isObject(schema.properties) ? schema.properties as Record<string, Schema> : {}
  const known = Object.keys(properties)
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    let name = key
    if (!(key in properties)) {
      const match = known.find((k) => k.toLowerCase() === key.toLowerCase())
      // Rename only when the canonical spelling is not also given: `{mode, Mode}` stays as is and is refused.
      if (match !== undefined && !(match in value)) name = match
    }
    const sub = properties[name] ?? (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined)
    out[name] = sub === undefined ? v : normaliseBySchema(sub, v)
  }
  return out
}

function canonicalEnum (schema: Schema, value: string): string {
  const candidates: unknown[] = Array.isArray(schema.enum) ? schema.enum : 'const' in schema ? [schema.const] : []
  if (candidates.includes(value)) return value
  const match = candidates.find((c) => typeof c === 'string' && c.toLowerCase() === value.toLowerCase())
  return typeof match === 'string' ? match : value
}
