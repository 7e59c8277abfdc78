/**
 * MQTT topic filter matching (MQTT 5 §4.7): `+` matches one level, `#` the rest (including the parent level),
 * and filters starting with a wildcard never match topics starting with `$` [MQTT-4.7.2-1].
 */
export function topicMatches (filter: string, topic: string): boolean {
  return compileTopicFilter(filter)(topic)
}

/**
 * A matcher for one filter, for hot paths (every device publish is matched against every dataflow's filters):
 * the filter is parsed once, and the common shapes (no wildcard, a trailing `#`) never split the topic.
 */
export function compileTopicFilter (filter: string): (topic: string) => boolean {
  const share = /^\$share\/[^/]+\/(.*)$/.exec(filter)
  const f = share ? share[1] ?? '' : filter
  if (!f.includes('+') && !f.includes('#')) return (topic) => topic === f
  const wildcardFirst = f.startsWith('+') || f.startsWith('#')
  const levels = f.split('/')
  if (!f.includes('+') && levels.indexOf('#') === levels.length - 1) {
    const parent = levels.slice(0, -1).join('/')
    if (levels.length === 1) return (topic) => !topic.startsWith('$')
    const prefix = `${parent}/`
    return (topic) => topic === parent || topic.startsWith(prefix)
  }
  return (topic) => {
    if (wildcardFirst && topic.startsWith('$')) return false
    const t = topic.split('/')
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]
      if (level === '#') return true
      if (i >= t.length) return false
      if (level !== '+' && level !== t[i]) return false
    }
    return levels.length === t.length
  }
}

/** Why a topic filter is not valid, or undefined when it is (MQTT 5 §4.7.1). */
export function topicFilterProblem (filter: string): string | undefined {
  if (filter.length === 0) return 'a topic filter must not be empty'
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? ''
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '`#` must be a whole level and the last one'
    if (level.includes('+') && level !== '+') return '`+` must be a whole level'
  }
  return undefined
}
