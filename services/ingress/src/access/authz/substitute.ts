import type { Principal } from '../types.js'

const VARIABLE = /\{principal\.(clientId|username|attributes\.([^}]+))\}/g
/** Characters that would change what a topic filter or client-id pattern means if a device could inject them. */
const SPECIAL = /[+#/*\u0000]/

/**
 * Fills `{principal.clientId}`, `{principal.username}`, `{principal.attributes.NAME}` into a rule's topic filter
 * (returned split into levels) or client-id pattern (one element). Grants nothing — `undefined` — when a value is
 * missing, empty, or holds `+`, `#`, `/` or `*`: a device named `#` must not turn `factory/{principal.clientId}`
 * into `factory/#`. Refusing is safer than escaping, which MQTT filters have no syntax for.
 */
export function substitute (template: string, p: Principal, kind: 'topic' | 'clientId'): string[] | undefined {
  let missing = false
  const filled = template.replace(VARIABLE, (_all, what: string, attribute?: string) => {
    const value = attribute !== undefined ? p.attributes[attribute] : what === 'clientId' ? p.clientId : p.username
    if (value === undefined || value === '' || SPECIAL.test(value)) { missing = true; return '' }
    return value
  })
  if (missing) return undefined
  return kind === 'topic' ? filled.split('/') : [filled]
}
