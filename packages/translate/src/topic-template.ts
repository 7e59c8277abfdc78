/**
 * Destination topics with `${inputTopic}` (the whole source topic) and `${inputTopic.N}` (its N-th `/`-separated
 * segment, 1-based), in both directions. A Kafka source topic has no `/`, so `${inputTopic.1}` is the whole of it.
 * Anything that cannot be resolved into a legal destination topic is a drop (`invalid-topic`), never an exception.
 */
import { isMqttString, utf8Encode, MQTT_STRING_MAX_BYTES } from './utf8.js'

export type TopicResolution = { ok: true, topic: string } | { ok: false, detail: string }

const PLACEHOLDER = /\$\{([^}]*)\}/g
const SEGMENT = /^inputTopic\.([1-9][0-9]{0,5})$/

/** Substitutes the placeholders; refuses unknown ones, an unclosed `${` and segments out of range. */
export function expandTopicTemplate (template: string, inputTopic: string): TopicResolution {
  const segments = inputTopic.split('/')
  let problem: string | undefined
  const topic = template.replace(PLACEHOLDER, (whole, name: string) => {
    if (name === 'inputTopic') return inputTopic
    const m = SEGMENT.exec(name)
    if (m === null) {
      problem ??= `unknown placeholder ${whole} (use \${inputTopic} or \${inputTopic.N})`
      return ''
    }
    const n = Number(m[1])
    if (n > segments.length) {
      problem ??= `${whole} is out of range: "${inputTopic}" has ${segments.length} segment(s)`
      return ''
    }
    return segments[n - 1]!
  })
  if (problem !== undefined) return { ok: false, detail: problem }
  if (topic.includes('${')) return { ok: false, detail: `unclosed placeholder in "${template}"` }
  if (topic === '') return { ok: false, detail: `"${template}" resolves to an empty topic for "${inputTopic}"` }
  return { ok: true, topic }
}

// Kafka's own rule (org.apache.kafka.common.internals.Topic): [a-zA-Z0-9._-], at most 249, not "." or "..".
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

export function kafkaTopicProblem (topic: string): string | undefined {
  if (topic === '.' || topic === '..') return `"${topic}" is not a legal Kafka topic name`
  if (topic.length > 249) return `Kafka topic names have at most 249 characters (got ${topic.length})`
  if (!KAFKA_TOPIC.test(topic)) return `"${topic}" is not a legal Kafka topic name (allowed: letters, digits, ".", "_", "-")`
  return undefined
}

/** MQTT 5 §4.7: a topic name for PUBLISH has no wildcard, no U+0000, is not empty and fits an MQTT string. */
export function mqttTopicProblem (topic: string): string | undefined {
  if (topic.includes('+') || topic.includes('#')) return `"${topic}" has a wildcard; a publish topic may not`
  if (!isMqttString(topic)) return 'the topic is not a valid MQTT UTF-8 string'
  if (utf8Encode(topic).length > MQTT_STRING_MAX_BYTES) return 'the topic is longer than 65 535 bytes'
  return undefined
}

export function resolveKafkaTopic (template: string, inputTopic: string): TopicResolution {
  return remembered(kafkaResolutions, template, inputTopic, kafkaTopicProblem)
}

export function resolveMqttTopic (template: string, inputTopic: string): TopicResolution {
  return remembered(mqttResolutions, template, inputTopic, mqttTopicProblem)
}

/**
 * Resolutions are pure functions of (template, topic) and are remembered: expanding and validating per message was
 * ~5 % of the gateway's CPU. A template without a placeholder resolves the same for every topic, so it is resolved
 * once, whatever the number of devices (issue 20: a fleet of 5,000+ devices on topics of their own missed a
 * per-topic cache every time, ~1.7 µs a message). Per-topic results are kept up to RESOLUTIONS_KEPT per template,
 * the oldest forgotten first, so a fleet larger than that still finds its recent topics.
 */
const RESOLUTIONS_KEPT = 16_384
const TEMPLATES_KEPT = 4096
const kafkaResolutions = new Map<string, Map<string, TopicResolution> | TopicResolution>()
const mqttResolutions = new Map<string, Map<string, TopicResolution> | TopicResolution>()

function remembered (cache: Map<string, Map<string, TopicResolution> | TopicResolution>, template: string, inputTopic: string, problemOf: (topic: string) => string | undefined): TopicResolution {
  let entry = cache.get(template)
  if (entry === undefined) {
    if (cache.size >= TEMPLATES_KEPT) cache.delete(cache.keys().next().value!)
    entry = template.includes('${') ? new Map() : resolve(template, inputTopic, problemOf)
    cache.set(template, entry)
  }
  if (!(entry instanceof Map)) return entry
  let resolution = entry.get(inputTopic)
  if (resolution === undefined) {
    resolution = resolve(template, inputTopic, problemOf)
    if (entry.size >= RESOLUTIONS_KEPT) entry.delete(entry.keys().next().value!)
    entry.set(inputTopic, resolution)
  }
  return resolution
}

function resolve (template: string, inputTopic: string, problemOf: (topic: string) => string | undefined): TopicResolution {
  const r = expandTopicTemplate(template, inputTopic)
  const problem = r.ok ? problemOf(r.topic) : undefined
  return problem === undefined ? r : { ok: false, detail: problem }
}
