import { $, actions, button, cell, emptyRow, lines, qualifiedName, ready } from './dom.js'
import { showYaml } from './yaml-dialog.js'
import { confirmDelete } from './delete-dialog.js'
import { showCaCertificate } from './ca-dialog.js'

// "Device access": the broker's front door as AIO models it — BrokerListener ports, who may connect
// (BrokerAuthentication) and what they may do (BrokerAuthorization). The spec says what was asked for; the
// listener's status (written by the gateway, possibly not yet) says what is served. Both render without status.

const idOf = (r) => `${r.metadata.namespace}/${r.metadata.name}`
const portsOf = (listener) => Array.isArray(listener.spec?.ports) ? listener.spec.ports : []

/** `8883 Mqtt TLS(Manual) authn: devices authz: devices`, the way a broker's config file would say it. */
export function describePort (p) {
  const tls = p.tls?.mode ? `TLS(${p.tls.mode})` : 'no TLS'
  return `${p.port} ${p.protocol ?? 'Mqtt'} ${tls} authn: ${p.authenticationRef ?? 'none'} authz: ${p.authorizationRef ?? 'none'}`
}

/** Where each port is bound, from status: `0.0.0.0:8883`, `not bound`, or nothing known yet. */
function boundLines (listener) {
  const served = listener.status?.ports
  return portsOf(listener).map((p) => {
    if (!Array.isArray(served)) return '—'
    const entry = served.find((s) => s.port === p.port)
    return entry?.bound ?? `${p.port} not bound`
  })
}

/**
 * The status' notes (what Flowgate ignores or changed, e.g. "serviceType is Kubernetes-only: ignored") and port
 * errors. A note every port carries is a note about the listener, shown once; the rest name their port.
 */
function notesOf (listener) {
  const served = Array.isArray(listener.status?.ports) ? listener.status.ports : []
  const several = served.length > 1
  const count = new Map()
  for (const s of served) for (const n of new Set(s.notes ?? [])) count.set(n, (count.get(n) ?? 0) + 1)
  const notes = [...count].map(([n, k]) => several && k < served.length
    ? served.filter((s) => s.notes?.includes(n)).map((s) => s.port).join(', ') + `: ${n}`
    : n)
  const errors = served.filter((s) => s.error).map((s) => `${s.port}: ${s.error}`)
  return { notes, errors }
}

function statusCell (listener) {
  const td = cell(ready(listener))
  const c = listener.status?.conditions?.find((x) => x.type === 'Ready')
  // Why it is not ready belongs in sight, not only in the badge's tooltip; unless the Notes already say it per port.
  const saidPerPort = (listener.status?.ports ?? []).some((p) => p.error)
  if (c?.status === 'False' && c.message && !saidPerPort) {
    const why = document.createElement('div')
    why.className = 'error'
    why.textContent = c.message
    td.append(why)
  }
  return td
}

function notesCell (listener) {
  const { notes, errors } = notesOf(listener)
  const td = cell('')
  if (errors.length > 0) td.append(lines(errors, 'error'))
  if (notes.length > 0) td.append(lines(notes, 'muted'))
  if (errors.length === 0 && notes.length === 0) td.textContent = '—'
  return td
}

function caButtons (listener, id) {
  const automatic = portsOf(listener).filter((p) => p.tls?.mode === 'Automatic')
  return automatic.map((p) => button(automatic.length > 1 ? `CA ${p.port}` : 'CA', `CA certificate of listener ${id} port ${p.port}`,
    () => showCaCertificate(listener, p.port)))
}

function renderListeners (items, changed) {
  const table = $('listeners')
  if (items.length === 0) {
    table.tBodies[0].replaceChildren(emptyRow(table, 'No BrokerListener: devices reach only the gateway\'s built-in MQTT port. Apply one from AIO\'s docs with Apply YAML.'))
    return
  }
  table.tBodies[0].replaceChildren(...items.map((l) => {
    const id = idOf(l)
    const tr = document.createElement('tr')
    tr.append(
      cell(qualifiedName(l)),
      cell(lines(portsOf(l).map(describePort)), 'mono nowrap'),
      cell(lines(boundLines(l)), 'mono nowrap'),
      statusCell(l),
      notesCell(l),
      cell(actions(
        ...caButtons(l, id),
        button('YAML', `YAML of listener ${id}`, () => showYaml('brokerlisteners', l)),
        button('Delete', `Delete listener ${id}`, () => confirmDelete('brokerlisteners', l, changed), 'danger')
      ))
    )
    return tr
  }))
}

/** `listener:8883` for each listener port naming this resource through `field`: what a delete would break. */
function usedBy (listeners, r, field) {
  const uses = listeners.filter((l) => l.metadata.namespace === r.metadata.namespace)
    .flatMap((l) => portsOf(l).filter((p) => p[field] === r.metadata.name).map((p) => `${l.metadata.name}:${p.port}`))
  return uses.length > 0 ? uses.join(', ') : '—'
}

function renderAuthentications (items, listeners, changed) {
  const table = $('authentications')
  if (items.length === 0) { table.tBodies[0].replaceChildren(emptyRow(table, 'None: listener ports without authenticationRef take anonymous devices, on loopback only unless the gateway runs with --allow-anonymous.')); return }
  table.tBodies[0].replaceChildren(...items.map((a) => {
    const id = idOf(a)
    const methods = (a.spec?.authenticationMethods ?? []).map((m) => m.method)
    const tr = document.createElement('tr')
    tr.append(
      cell(qualifiedName(a)),
      // AIO tries the methods in this order; the arrow says so.
      cell(methods.join(' → ')),
      cell(usedBy(listeners, a, 'authenticationRef'), 'mono'),
      cell(actions(
        button('YAML', `YAML of authentication ${id}`, () => showYaml('brokerauthentications', a)),
        button('Delete', `Delete authentication ${id}`, () => confirmDelete('brokerauthentications', a, changed), 'danger')
      ))
    )
    return tr
  }))
}

function renderAuthorizations (items, listeners, changed) {
  const table = $('authorizations')
  if (items.length === 0) { table.tBodies[0].replaceChildren(emptyRow(table, 'None: on ports without authorizationRef, authenticated devices may publish and subscribe to every topic.')); return }
  table.tBodies[0].replaceChildren(...items.map((z) => {
    const id = idOf(z)
    const policies = z.spec?.authorizationPolicies ?? {}
    const rules = Array.isArray(policies.rules) ? policies.rules.length : 0
    // `enableCache` is the preview API's spelling and wins when present, as in the broker.
    const cache = (policies.enableCache ?? policies.cache !== 'Disabled') ? 'on' : 'off'
    const tr = document.createElement('tr')
    tr.append(
      cell(qualifiedName(z)),
      cell(rules, 'num'),
      cell(cache),
      cell(usedBy(listeners, z, 'authorizationRef'), 'mono'),
      cell(actions(
        button('YAML', `YAML of authorization ${id}`, () => showYaml('brokerauthorizations', z)),
        button('Delete', `Delete authorization ${id}`, () => confirmDelete('brokerauthorizations', z, changed), 'danger')
      ))
    )
    return tr
  }))
}

/** Renders the three tables; `changed` refreshes the page after a delete. */
export function renderDeviceAccess ({ listeners, authentications, authorizations }, changed) {
  renderListeners(listeners, changed)
  renderAuthentications(authentications, listeners, changed)
  renderAuthorizations(authorizations, listeners, changed)
}
