/**
 * CloudEvents attributes on MQTT → Kafka (seed "CloudEvents": the Propagate and CreateOrRemap tables).
 *
 * Header names: the seed's tables write `ce-specversion`, `ce-type`…, while its prose says "a `ce_` prefix is added"
 * and the CloudEvents Kafka protocol binding (kafka-protocol-binding.md §3.2.3.1) uses `ce_`; `ce-` is the HTTP
 * binding's prefix. Flowgate follows the tables' output names, `ce-` — they are the concrete contract a user checks.
 * A consumer using a CloudEvents Kafka SDK will not see these as attributes; it reads them as plain headers.
 *
 * Attributes are read from the MQTT user properties named exactly `specversion`, `type`, `source`, `id`, `subject`,
 * `time`, `datacontenttype`, `dataschema` (the first of each name; a repeat stays a plain user property). A present
 * attribute is renamed in place (its position among the headers kept); a generated one is appended in the table's
 * order. Flowgate has no transform stage and no schema registry, so `datacontenttype` and `dataschema` pass through
 * as they are; CreateOrRemap fills a missing `datacontenttype` from the MQTT Content Type and never invents a
 * `dataschema`.
 */
import type { CloudEventAttributes, UserProperties } from './types.js'

export const CLOUD_EVENTS_HEADER_PREFIX = 'ce-'
export const CLOUD_EVENTS_REQUIRED = ['specversion', 'type', 'source', 'id'] as const
export const CLOUD_EVENTS_OPTIONAL = ['subject', 'time', 'datacontenttype', 'dataschema'] as const
const ALL = [...CLOUD_EVENTS_REQUIRED, ...CLOUD_EVENTS_OPTIONAL]

/** Generated values (CreateOrRemap). */
export const CLOUD_EVENTS_SPECVERSION = '1.0'
export const CLOUD_EVENTS_TYPE = 'ms.aio-dataflow.telemetry'

export interface CloudEventsInput {
  /** The destination topic (the generated `subject`). */
  outputTopic: string
  /** The MQTT Content Type (the generated `datacontenttype`). */
  contentType: string | undefined
  /** `<target-name>` of the generated `source`, `aio://<target-name>`. */
  targetName: string
  now: number
  randomUUID: () => string
}

/** A user property, or a CloudEvents attribute that becomes a `ce-` header. */
export interface HeaderPair { name: string, value: string, cloudEvent: boolean }

export function applyCloudEvents (userProperties: UserProperties, mode: CloudEventAttributes | undefined, input: CloudEventsInput): HeaderPair[] {
  const plain = userProperties.map(([name, value]): HeaderPair => ({ name, value, cloudEvent: false }))
  // Propagate: "If the message doesn't contain the required properties, the message is passed through as is." Fewer
  // user properties than required attributes is the common case (a device sending none), decided without a look-up.
  if (mode === undefined || (mode === 'Propagate' && userProperties.length < CLOUD_EVENTS_REQUIRED.length)) return plain
  const first = new Map<string, number>()
  userProperties.forEach(([name], i) => { if ((ALL as readonly string[]).includes(name) && !first.has(name)) first.set(name, i) })
  const hasRequired = CLOUD_EVENTS_REQUIRED.every((a) => first.has(a))
  if (mode === 'Propagate' && !hasRequired) return plain
  const out = plain.map((p, i) => first.get(p.name) === i ? { name: CLOUD_EVENTS_HEADER_PREFIX + p.name, value: p.value, cloudEvent: true } : p)
  if (mode === 'CreateOrRemap') {
    const generated: Record<string, () => string | undefined> = {
      specversion: () => CLOUD_EVENTS_SPECVERSION,
      type: () => CLOUD_EVENTS_TYPE,
      source: () => `aio://${input.targetName}`,
      id: () => input.randomUUID(),
      subject: () => input.outputTopic,
      time: () => rfc3339(input.now),
      datacontenttype: () => input.contentType,
      dataschema: () => undefined
    }
    for (const a of ALL) {
      if (first.has(a)) continue
      const value = generated[a]!()
      if (value !== undefined) out.push({ name: CLOUD_EVENTS_HEADER_PREFIX + a, value, cloudEvent: true })
    }
  }
  return out
}

/** RFC 3339 in UTC (`2018-04-05T17:31:00.000Z`), as `Date#toISOString` writes it. */
function rfc3339 (ms: number): string {
  return new Date(ms).toISOString()
}
