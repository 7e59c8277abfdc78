/**
 * MQTT topic filter matching (MQTT 5 §4.7): `+` matches one level, `#` the rest (including the parent level),
 * and filters starting with a wildcard never match topics starting with `$` [MQTT-4.7.2-1].
 */
export function topicMatches (filter: string, topic: string): boolean {
  const share = /^\$share\/[^/]+\/(.*)$/.exec(filter)
  if (share) filter = share[1] ?? ''
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
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
