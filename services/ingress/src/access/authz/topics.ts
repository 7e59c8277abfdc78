/**
 * Topic-filter questions on a principal's granted filters, which are split and arranged once per principal.
 *
 * Not @flowgate/mqtt's compileTopicFilter: it reads `$share/{group}/` off the front of a filter (right for a
 * subscription, wrong for a grant) and matches one filter at a time, where a principal granted a hundred filters
 * should walk the topic once. SUBSCRIBE also needs a different question: is one filter contained in another?
 */

/**
 * Does `allowed` match every topic name `requested` can match? Both must be valid filters.
 * `factory/+/temp` ⊆ `factory/#`, `+/x` ⊆ `+/+`, but `factory/#` ⊄ `factory/+/temp`.
 */
export function filterContains (allowed: readonly string[], requested: readonly string[]): boolean {
  // A `$` topic is reachable only through a literal first level, which a leading wildcard never grants.
  if (isWildcard(allowed[0]) && requested[0]?.startsWith('$') === true) return false
  // Every topic name has at least one level, so `+/#` grants exactly what `#` does (deeper, `x/#` matches `x`,
  // which `x/+/#` does not).
  if (requested.length === 1 && requested[0] === '#') {
    return allowed.length === 1 ? allowed[0] === '#' : allowed.length === 2 && allowed[0] === '+' && allowed[1] === '#'
  }
  for (let i = 0; i < allowed.length; i++) {
    const a = allowed[i]
    if (a === '#') return true
    if (i >= requested.length) return false
    const r = requested[i]
    // A `#` past the first level also matches its parent, which has fewer levels than `allowed` demands.
    if (r === '#') return false
    if (a === '+') continue
    if (r !== a) return false
  }
  return allowed.length === requested.length
}

function isWildcard (level: string | undefined): boolean {
  return level === '+' || level === '#'
}

/** One level of a tree of filters: the filters that go on through a literal level, through `+`, or end here. */
interface Level {
  literal?: Map<string, Level>
  plus?: Level
  /** A filter ends here with `#`, which matches this level's parent too. */
  hash: boolean
  /** A filter ends here. */
  end: boolean
}

const level = (): Level => ({ hash: false, end: false })

/**
 * Publish filters as a tree, so a publish costs a walk down the topic's levels whatever the number of filters: a
 * hundred rules granting `rN/+/temp` are one branching level, not a hundred checks.
 */
export class FilterTree {
  /** Filters without wildcards, answered without splitting the topic. */
  readonly exact = new Set<string>()
  private readonly root = level()
  /** Whether any filter has a wildcard, i.e. whether walking can find anything `exact` did not. */
  readonly wild: boolean
  readonly empty: boolean

  constructor (filters: Iterable<readonly string[]>) {
    let wild = false
    let empty = true
    for (const levels of filters) {
      empty = false
      if (!levels.includes('+') && !levels.includes('#')) { this.exact.add(levels.join('/')); continue }
      wild = true
      let node = this.root
      for (const l of levels) {
        if (l === '#') { node.hash = true; break }
        if (l === '+') node = node.plus ??= level()
        else {
          node.literal ??= new Map()
          let next = node.literal.get(l)
          if (next === undefined) { next = level(); node.literal.set(l, next) }
          node = next
        }
      }
      if (levels[levels.length - 1] !== '#') node.end = true
    }
    this.wild = wild
    this.empty = empty
  }

  /** Do the wildcard filters match this topic name? */
  walk (topic: string): boolean {
    // A leading wildcard does not match a `$` topic [MQTT-4.7.2-1]: only a literal first level may go on.
    if (topic.startsWith('$')) {
      const end = levelEnd(topic, 0)
      const next = this.root.literal?.get(topic.slice(0, end))
      return next !== undefined && walk(next, topic, end + 1)
    }
    return walk(this.root, topic, 0)
  }
}

/**
 * Walks the topic from the level starting at `start` (past its end once every level is consumed), cutting out only
 * the levels a literal branch asks about: splitting the whole topic costs more than the walk itself.
 */
function walk (node: Level, topic: string, start: number): boolean {
  if (node.hash) return true
  if (start > topic.length) return node.end
  const end = levelEnd(topic, start)
  if (node.literal !== undefined) {
    const next = node.literal.get(topic.slice(start, end))
    if (next !== undefined && walk(next, topic, end + 1)) return true
  }
  return node.plus !== undefined && walk(node.plus, topic, end + 1)
}

function levelEnd (topic: string, start: number): number {
  const slash = topic.indexOf('/', start)
  return slash === -1 ? topic.length : slash
}

/**
 * A principal's Publish filters: the trees of the filters its rules share with other principals and of those filled
 * in for it alone. `topic` must be a valid topic name (no wildcards).
 */
export function publishMatches (trees: readonly FilterTree[], topic: string): boolean {
  for (const tree of trees) {
    if (tree.exact.has(topic)) return true
  }
  for (const tree of trees) {
    if (tree.wild && tree.walk(topic)) return true
  }
  return false
}

/** Subscribe filters. */
export class FilterList {
  readonly exact = new Set<string>()
  readonly filters: Array<readonly string[]> = []

  constructor (filters: Iterable<readonly string[]>) {
    for (const levels of filters) {
      const joined = levels.join('/')
      // A hundred rules granting the same filter cost one containment check, not a hundred.
      if (this.exact.has(joined)) continue
      this.exact.add(joined)
      this.filters.push(levels)
    }
  }

  get empty (): boolean { return this.filters.length === 0 }
}

/** Does a granted filter contain `requested` (a valid filter, without its `$share/{group}/`)? */
export function subscribeAllowed (lists: readonly FilterList[], requested: string): boolean {
  // Containment is reflexive: a device subscribing to exactly what it was granted needs no split.
  for (const list of lists) {
    if (list.exact.has(requested)) return true
  }
  let levels: string[] | undefined
  for (const list of lists) {
    for (const allowed of list.filters) {
      if (filterContains(allowed, levels ??= requested.split('/'))) return true
    }
  }
  return false
}
