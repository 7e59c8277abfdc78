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
 * Resolutions are pure functions of (template, topic) and devices publish to few topics, so they are remembered:
 * expanding and validating per message was ~5 % of the gateway's CPU. Bounded: the map starts over when full.
 */
const RESOLUTIONS_KEPT = 4096
const kafkaResolutions = new Map<string, Map<string, TopicResolution>>()
const mqttResolutions = new Map<string, Map<string, TopicResolution>>()

function remembered (cache: Map<string, Map<string, TopicResolution>>, template: string, inputTopic: string, problemOf: (topic: string) => string | undefined): TopicResolution {
  let byTopic = cache.get(template)
  if (byTopic === undefined) {
    if (cache.size >= RESOLUTIONS_KEPT) cache.clear()
    byTopic = new Map()
    cache.set(template, byTopic)
  }
  let resolution = byTopic.get(inputTopic)
  if (resolution === undefined) {
    const r = expandTopicTemplate(template, inputTopic)
    const problem = r.ok ? problemOf(r.topic) : undefined
    resolution = problem === undefined ? r : { ok: false, detail: problem }
    if (byTopic.size >= RESOLUTIONS_KEPT) byTopic.clear()
    byTopic.set(inputTopic, resolution)
  }
  return resolution
}
