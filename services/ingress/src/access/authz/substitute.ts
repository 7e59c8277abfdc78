import { topicFilterProblem } from '@flowgate/mqtt'
import type { Principal } from '../types.js'

/**
 * `{principal.clientId}`, `{principal.username}` and `{principal.attributes.NAME}` in a rule's topics and Connect
 * clientIds. A value the principal lacks (no user name, no such attribute, an empty string) makes the topic or
 * pattern grant nothing: substituting '' would turn `devices/{principal.username}/#` into `devices//#`.
 */
type Token = { kind: 'clientId' } | { kind: 'username' } | { kind: 'attribute', name: string }

const TOKEN = /\{principal\.(clientId|username|attributes\.([^{}]+))\}/g
const WHOLE_TOKEN = /^\{principal\.(clientId|username|attributes\.([^{}]+))\}$/
/** What is left of a token the syntax above does not know (`{principal.groups}`, an unclosed brace). */
const UNKNOWN_TOKEN = '{principal.'

function token (what: string, attribute: string | undefined): Token {
  if (attribute !== undefined) return { kind: 'attribute', name: attribute }
  return what === 'clientId' ? { kind: 'clientId' } : { kind: 'username' }
}

function valueOf (t: Token, p: Principal): string | undefined {
  const value = t.kind === 'clientId'
    ? p.clientId
    : t.kind === 'username'
      ? p.username
      : Object.hasOwn(p.attributes, t.name) ? p.attributes[t.name] : undefined
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** A rule's topic filter, split into levels; a level is literal text or one token. */
export interface TopicTemplate {
  levels: ReadonlyArray<string | Token>
  /** The levels when no token needs filling in: shared by every principal, never copied. */
  fixed?: readonly string[]
}

/**
 * Undefined — the topic grants nothing — when the filter is not a valid MQTT filter, or a token shares its level
 * with other text: AIO requires a token to be a whole level (`clients/{principal.clientId}/#`, not
 * `client-{principal.clientId}/#`), and so a value can never be glued to a literal to spell something else.
 */
export function compileTopicTemplate (template: string): TopicTemplate | undefined {
  const levels: Array<string | Token> = []
  for (const level of template.split('/')) {
    const m = WHOLE_TOKEN.exec(level)
    if (m !== null) levels.push(token(m[1]!, m[2]))
    else if (level.includes(UNKNOWN_TOKEN)) return undefined
    else levels.push(level)
  }
  // A substituted value is never a wildcard, so a stand-in checks the filter's shape for every principal.
  if (topicFilterProblem(levels.map((l) => typeof l === 'string' ? l : 'value').join('/')) !== undefined) return undefined
  return levels.every((l) => typeof l === 'string') ? { levels, fixed: levels } : { levels }
}

/** Characters that would make a substituted value a wildcard or a level separator, or that no topic may hold. */
const NOT_IN_A_LEVEL = /[+#/\u0000]/

/**
 * The principal's filter, split into levels, or undefined when it grants this principal nothing: a value is
 * missing, or would change the filter's shape — a device whose client id is `#` must not turn `factory/{principal.clientId}`
 * into `factory/#`, nor one named `a/b` reach a level deeper. MQTT filters have no escape for a literal `+`, and no
 * topic name may contain one, so refusing loses nothing a literal match could have granted. A value starting with `$`
 * is refused as the first level too: `$` topics belong to the server, not to whoever picks such a client id.
 */
export function fillTopic (template: TopicTemplate, p: Principal): readonly string[] | undefined {
  if (template.fixed !== undefined) return template.fixed
  const levels: string[] = []
  for (let i = 0; i < template.levels.length; i++) {
    const level = template.levels[i]!
    if (typeof level === 'string') { levels.push(level); continue }
    const value = valueOf(level, p)
    if (value === undefined || NOT_IN_A_LEVEL.test(value) || (i === 0 && value.startsWith('$'))) return undefined
    levels.push(value)
  }
  return levels
}

/** Does this principal's client id match a Connect resource's pattern? */
export type ClientIdPattern = (p: Principal) => boolean

/**
 * `*` in the pattern's own text matches any run of characters (AIO: `{principal.attributes.building}*`). A
 * substituted value matches literally, `*` included: a client id is free text with no separator to protect, so a
 * literal match grants exactly what the rule's author wrote, and an attribute `*` cannot widen the pattern.
 */
export function compileClientIdPattern (pattern: string): ClientIdPattern {
  const pieces: Array<string | Token> = []
  let from = 0
  for (const m of pattern.matchAll(TOKEN)) {
    pieces.push(pattern.slice(from, m.index), token(m[1]!, m[2]))
    from = m.index + m[0].length
  }
  pieces.push(pattern.slice(from))
  if (pieces.some((piece) => typeof piece === 'string' && piece.includes(UNKNOWN_TOKEN))) return () => false

  if (pieces.length === 1) {
    const fixed = new RegExp(`^${globToRegExp(pattern)}$`, 's')
    return (p) => fixed.test(p.clientId)
  }
  return (p) => {
    let source = ''
    for (const piece of pieces) {
      if (typeof piece === 'string') { source += globToRegExp(piece); continue }
      const value = valueOf(piece, p)
      if (value === undefined) return false
      source += escapeRegExp(value)
    }
    return new RegExp(`^${source}$`, 's').test(p.clientId)
  }
}

function globToRegExp (text: string): string {
  return text.split('*').map(escapeRegExp).join('.*')
}

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
