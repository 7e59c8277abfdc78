import type { BrokerAuthorization } from '@flowgate/resources'
import type { Principal } from '../types.js'
import { filterContains, topicMatchesLevels } from './topics.js'
import { substitute } from './substitute.js'

export interface AuthorizationPolicy {
  /** A rule that applies to the principal has a Connect resource whose clientIds (if any) match its client id. */
  connect: (p: Principal) => boolean
  /** The topic name matches a Publish filter of a rule that applies. */
  publish: (p: Principal, topic: string) => boolean
  /** The filter (`$share/{group}/` stripped) lies inside a Subscribe filter of a rule that applies. */
  subscribe: (p: Principal, filter: string) => boolean
}

type Spec = BrokerAuthorization['spec']
type Rule = NonNullable<Spec['authorizationPolicies']['rules']>[number]

/** What one principal may do, its rules' templates substituted once: kept per principal (per connection). */
interface Grants {
  connect: boolean
  publish: string[][]
  subscribe: string[][]
}

const CACHE_LIMIT = 4096

/**
 * AIO's BrokerAuthorization: a rule applies when any of its principals match (client id, user name, or all of one
 * attribute map); its brokerResources grant Connect, and Publish/Subscribe on topic filters with
 * `{principal.clientId}`, `{principal.username}` and `{principal.attributes.NAME}` filled in. What no rule grants
 * is refused. A principal's grants are computed once (per connection); with `cache: Enabled`, topic decisions too.
 */
export function compileAuthorization (spec: Spec): AuthorizationPolicy {
  const policies = spec.authorizationPolicies
  const rules = policies.rules ?? []
  const caching = policies.enableCache ?? (policies.cache !== 'Disabled')
  const grants = new WeakMap<Principal, Grants>()
  const decisions = new WeakMap<Principal, Map<string, boolean>>()

  const grantsOf = (p: Principal): Grants => {
    let g = grants.get(p)
    if (g === undefined) { g = computeGrants(rules, p); grants.set(p, g) }
    return g
  }
  const decide = (p: Principal, key: string, compute: () => boolean): boolean => {
    if (!caching) return compute()
    let cache = decisions.get(p)
    if (cache === undefined) { cache = new Map(); decisions.set(p, cache) }
    let answer = cache.get(key)
    if (answer === undefined) {
      answer = compute()
      if (cache.size >= CACHE_LIMIT) cache.clear()
      cache.set(key, answer)
    }
    return answer
  }

  return {
    connect: (p) => grantsOf(p).connect,
    publish (p, topic) {
      return decide(p, 'p' + topic, () => { const levels = topic.split('/'); return grantsOf(p).publish.some((f) => topicMatchesLevels(f, levels)) })
    },
    subscribe (p, filter) {
      return decide(p, 's' + filter, () => {
        const inner = sharedFilter(filter)
        if (inner === undefined) return false
        const levels = inner.split('/')
        return grantsOf(p).subscribe.some((f) => filterContains(f, levels))
      })
    }
  }
}

function applies (rule: Rule, p: Principal): boolean {
  const who = rule.principals
  if (who === undefined) return false
  if (who.clientIds?.includes(p.clientId) === true) return true
  if (p.username !== undefined && who.usernames?.includes(p.username) === true) return true
  return who.attributes?.some((set) => {
    const entries = Object.entries(set)
    return entries.length > 0 && entries.every(([k, v]) => p.attributes[k] === v)
  }) === true
}

function computeGrants (rules: readonly Rule[], p: Principal): Grants {
  const g: Grants = { connect: false, publish: [], subscribe: [] }
  for (const rule of rules) {
    if (!applies(rule, p)) continue
    for (const resource of rule.brokerResources ?? []) {
      if (resource.method === 'Connect') {
        const patterns = resource.clientIds ?? []
        if (patterns.length === 0 || patterns.some((pattern) => clientIdMatches(pattern, p))) g.connect = true
        continue
      }
      const into = resource.method === 'Publish' ? g.publish : g.subscribe
      for (const template of resource.topics ?? []) {
        const levels = substitute(template, p, 'topic')
        if (levels !== undefined) into.push(levels)
      }
    }
  }
  return g
}

/** `*` in a Connect resource's clientIds matches any run of characters (AIO: `"{principal.attributes.building}*"`). */
function clientIdMatches (pattern: string, p: Principal): boolean {
  const parts = substitute(pattern, p, 'clientId')
  if (parts === undefined) return false
  const [text] = parts
  const source = text!.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')
  return new RegExp(`^${source}$`, 's').test(p.clientId)
}

/** `$share/{group}/{filter}` → `{filter}`; a malformed share (no group or no filter) → undefined. */
function sharedFilter (filter: string): string | undefined {
  if (!filter.startsWith('$share/')) return filter
  const slash = filter.indexOf('/', 7)
  if (slash <= 7 || slash === filter.length - 1) return undefined
  return filter.slice(slash + 1)
}
