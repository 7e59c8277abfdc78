/**
 * Topic-filter matching on pre-split levels (a rule's filters are split once, not per publish). Written here rather
 * than taken from @flowgate/mqtt's matcher because containment of one filter in another (for SUBSCRIBE) is a
 * different question from matching a topic name, and both run on every publish and subscribe.
 */

/** MQTT §4.7: does the filter match the topic name? `$`-topics are not matched by a leading wildcard. */
export function topicMatchesLevels (filter: readonly string[], topic: readonly string[]): boolean {
  if (topic[0]?.startsWith('$') === true && (filter[0] === '+' || filter[0] === '#')) return false
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i]
    if (f === '#') return true
    if (i >= topic.length) return false
    if (f !== '+' && f !== topic[i]) return false
  }
  return filter.length === topic.length
}

/** Is every topic the `requested` filter can match also matched by `allowed`? (`factory/+/temp` ⊆ `factory/#`). */
export function filterContains (allowed: readonly string[], requested: readonly string[]): boolean {
  if (requested[0]?.startsWith('$') === true && (allowed[0] === '+' || allowed[0] === '#')) return false
  for (let i = 0; i < allowed.length; i++) {
    const a = allowed[i]
    if (a === '#') return true
    if (i >= requested.length) return false
    const r = requested[i]
    // `#` asks for every deeper level (and this one): only `#` here grants that.
    if (r === '#') return false
    if (a === '+') continue
    if (r === '+' || r !== a) return false
  }
  return allowed.length === requested.length
}
