import { topicFilterProblem } from '@flowgate/mqtt'
import type { BrokerAuthorization } from '@flowgate/resources'
import type { Principal } from '../types.js'
import { compileClientIdPattern, compileTopicTemplate, fillTopic, type ClientIdPattern, type TopicTemplate } from './substitute.js'
import { FilterList, FilterTree, publishMatches, subscribeAllowed } from './topics.js'

export interface AuthorizationPolicy {
  /** May this principal connect? (a rule whose principals match has a `Connect` brokerResource, and that resource's clientIds — if any — match the client id) */
  connect (p: Principal): boolean
  /** May it publish to this topic name? */
  publish (p: Principal, topic: string): boolean
  /** May it subscribe to this filter? `$share/{group}/{filter}` is checked on {filter}. */
  subscribe (p: Principal, filter: string): boolean
}

type Spec = BrokerAuthorization['spec']
type Rule = NonNullable<Spec['authorizationPolicies']['rules']>[number]

/** A rule with its principals turned into a test and its brokerResources grouped by method. */
interface CompiledRule {
  appliesTo: (p: Principal) => boolean
  /** One entry per Connect resource: its client-id patterns, none meaning any client id. */
  connect: ClientIdPattern[][]
  /** Filters with no `{principal.*}`: the same for every principal. */
  publish: Array<readonly string[]>
  subscribe: Array<readonly string[]>
  /** Filters to fill in per principal. */
  publishTemplates: TopicTemplate[]
  subscribeTemplates: TopicTemplate[]
}

/**
 * The fixed filters of one set of rules, shared by every principal those rules apply to: ten thousand devices of
 * one kind hold one tree between them, and each only the few filters filled in for it.
 */
interface SharedGrants {
  publish: FilterTree
  subscribe: FilterList
}

/** What one principal may do, worked out on its first question and kept while its connection lives. */
interface Grants {
  connect: boolean
  /** Shared and own filters; empty ones left out, so a principal granted nothing answers at once. */
  publish: FilterTree[]
  subscribe: FilterList[]
  /** Past answers, when the policy caches; bounded because a device picks its topic names. */
  published?: Map<string, boolean>
  subscribed?: Map<string, boolean>
}

/** Past answers kept per principal and method; a device past this many distinct topics starts afresh. */
const DECISIONS_PER_PRINCIPAL = 2048
/** Distinct sets of applicable rules kept; past it the next principals rebuild theirs (an answer never changes). */
const SHARED_RULE_SETS = 1024

/**
 * AIO's BrokerAuthorization: allow-only rules. A rule applies when any of its principals match; its
 * brokerResources then grant Connect (optionally only to matching client ids) and Publish/Subscribe on topic
 * filters, `{principal.*}` filled in. Anything no rule grants is refused. `stateStoreResources` have no state
 * store here to apply to.
 */
export function compileAuthorization (spec: Spec): AuthorizationPolicy {
  const settings = spec.authorizationPolicies
  // `enableCache` is the preview API's spelling: present, it overrides `cache`, which validation always fills in.
  // Either way each principal's grants are worked out once; the setting is about remembering answers per topic.
  const caching = settings.enableCache ?? settings.cache !== 'Disabled'
  const rules = (settings.rules ?? []).flatMap((rule) => compileRule(rule) ?? [])
  const grants = new WeakMap<Principal, Grants>()
  const shared = new Map<string, SharedGrants>()

  const grantsOf = (p: Principal): Grants => {
    let g = grants.get(p)
    if (g === undefined) {
      g = grantsFor(rules, shared, p)
      if (caching) { g.published = new Map(); g.subscribed = new Map() }
      grants.set(p, g)
    }
    return g
  }

  return {
    connect: (p) => grantsOf(p).connect,
    publish (p, topic) {
      const g = grantsOf(p)
      const cache = g.published
      if (cache === undefined) return mayPublish(g, topic)
      let answer = cache.get(topic)
      if (answer === undefined) {
        answer = mayPublish(g, topic)
        remember(cache, topic, answer)
      }
      return answer
    },
    subscribe (p, filter) {
      const g = grantsOf(p)
      const cache = g.subscribed
      if (cache === undefined) return maySubscribe(g, filter)
      let answer = cache.get(filter)
      if (answer === undefined) {
        answer = maySubscribe(g, filter)
        remember(cache, filter, answer)
      }
      return answer
    }
  }
}

function remember (cache: Map<string, boolean>, key: string, answer: boolean): void {
  // Clearing rather than evicting one by one: simplest bound, and only a device cycling through thousands of
  // topics ever hits it.
  if (cache.size >= DECISIONS_PER_PRINCIPAL) cache.clear()
  cache.set(key, answer)
}

function mayPublish (g: Grants, topic: string): boolean {
  if (g.publish.length === 0) return false
  // Not a topic name: a wildcard here would otherwise be compared as a literal level.
  if (topic === '' || topic.includes('+') || topic.includes('#')) return false
  return publishMatches(g.publish, topic)
}

function maySubscribe (g: Grants, filter: string): boolean {
  if (g.subscribe.length === 0) return false
  const inner = unshare(filter)
  if (inner === undefined || topicFilterProblem(inner) !== undefined) return false
  return subscribeAllowed(g.subscribe, inner)
}

/** `$share/{group}/{filter}` → `{filter}`; undefined for a malformed share (MQTT 5 §4.8.2: a group has no `/`, `+`, `#`). */
function unshare (filter: string): string | undefined {
  if (!filter.startsWith('$share/')) return filter
  const slash = filter.indexOf('/', 7)
  if (slash === -1) return undefined
  const group = filter.slice(7, slash)
  if (group === '' || group.includes('+') || group.includes('#')) return undefined
  return filter.slice(slash + 1)
}

/** Undefined for a rule that can grant nobody anything: no principals, or only empty lists. */
function compileRule (rule: Rule): CompiledRule | undefined {
  const appliesTo = compilePrincipals(rule.principals)
  if (appliesTo === undefined) return undefined
  const compiled: CompiledRule = { appliesTo, connect: [], publish: [], subscribe: [], publishTemplates: [], subscribeTemplates: [] }
  for (const resource of rule.brokerResources ?? []) {
    if (resource.method === 'Connect') {
      // AIO's portal writes `clientIds: []` for "any client id", as it does for a Connect without the field.
      compiled.connect.push((resource.clientIds ?? []).map(compileClientIdPattern))
      continue
    }
    const publish = resource.method === 'Publish'
    for (const template of (resource.topics ?? []).map(compileTopicTemplate)) {
      if (template === undefined) continue
      if (template.fixed !== undefined) (publish ? compiled.publish : compiled.subscribe).push(template.fixed)
      else (publish ? compiled.publishTemplates : compiled.subscribeTemplates).push(template)
    }
  }
  return compiled
}

function compilePrincipals (who: Rule['principals']): ((p: Principal) => boolean) | undefined {
  const clientIds = new Set(who?.clientIds ?? [])
  const usernames = new Set(who?.usernames ?? [])
  // An empty map would match every principal; an author who wrote `- {}` surely did not mean everybody.
  const attributeSets = (who?.attributes ?? []).map((set) => Object.entries(set)).filter((entries) => entries.length > 0)
  if (clientIds.size === 0 && usernames.size === 0 && attributeSets.length === 0) return undefined
  return (p) =>
    clientIds.has(p.clientId) ||
    (p.username !== undefined && usernames.has(p.username)) ||
    attributeSets.some((entries) => entries.every(([name, value]) => Object.hasOwn(p.attributes, name) && p.attributes[name] === value))
}

function grantsFor (rules: readonly CompiledRule[], shared: Map<string, SharedGrants>, p: Principal): Grants {
  let connect = false
  const applicable: number[] = []
  const publish: Array<readonly string[]> = []
  const subscribe: Array<readonly string[]> = []
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!
    if (!rule.appliesTo(p)) continue
    applicable.push(i)
    if (!connect) connect = rule.connect.some((patterns) => patterns.length === 0 || patterns.some((matches) => matches(p)))
    fill(rule.publishTemplates, p, publish)
    fill(rule.subscribeTemplates, p, subscribe)
  }
  const key = applicable.join(',')
  let common = shared.get(key)
  if (common === undefined) {
    const these = applicable.map((i) => rules[i]!)
    common = { publish: new FilterTree(these.flatMap((r) => r.publish)), subscribe: new FilterList(these.flatMap((r) => r.subscribe)) }
    if (shared.size >= SHARED_RULE_SETS) shared.clear()
    shared.set(key, common)
  }
  return {
    connect,
    publish: [common.publish, new FilterTree(publish)].filter((tree) => !tree.empty),
    subscribe: [common.subscribe, new FilterList(subscribe)].filter((list) => !list.empty)
  }
}

function fill (templates: readonly TopicTemplate[], p: Principal, into: Array<readonly string[]>): void {
  for (const template of templates) {
    const levels = fillTopic(template, p)
    if (levels !== undefined) into.push(levels)
  }
}
