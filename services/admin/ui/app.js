import { api, ApiError, session, resourcePath } from './api.js'
import { $, actions, button, cell, ready } from './dom.js'
import { initEndpointForm, openEndpointForm } from './endpoint-form.js'
import { openDataflowForm } from './dataflow-form.js'
import { initTail, setTailFilters, startTail, stopTail, tailFilters } from './tail.js'
import { initYamlDialog, showYaml } from './yaml-dialog.js'
import { initApplyDialog, openApplyDialog } from './apply-dialog.js'
import { initDeleteDialog } from './delete-dialog.js'
import { initCaDialog } from './ca-dialog.js'
import { renderDeviceAccess } from './device-access.js'

const POLL_MS = 2000
let endpoints = []
let timer
/** Last counters per dataflow, for rates: sent messages per second between two polls. */
const previous = new Map()

function renderEndpoints (items) {
  const body = $('endpoints').tBodies[0]
  body.replaceChildren(...items.map((e) => {
    const s = e.spec.kafkaSettings ?? e.spec.mqttSettings ?? {}
    const id = `${e.metadata.namespace}/${e.metadata.name}`
    const tr = document.createElement('tr')
    tr.append(
      cell(id), cell(e.spec.endpointType), cell(s.host, 'mono'), cell(s.authentication?.method ?? '—'), cell(ready(e)),
      cell(actions(
        ...(e.spec.endpointType === 'Kafka' ? [button('Edit', `Edit endpoint ${id}`, async () => openEndpointForm(await api('GET', resourcePath('dataflowendpoints', e.metadata.namespace, e.metadata.name)), refresh))] : []),
        button('YAML', `YAML of endpoint ${id}`, () => showYaml('dataflowendpoints', e))
      ))
    )
    return tr
  }))
}

function renderDataflows (items, now) {
  const body = $('dataflows').tBodies[0]
  body.replaceChildren(...items.map((d) => {
    const id = `${d.metadata.namespace}/${d.metadata.name}`
    const ops = d.spec.operations ?? []
    const src = ops.find((o) => o.operationType === 'Source')?.sourceSettings
    const dst = ops.find((o) => o.operationType === 'Destination')?.destinationSettings
    const c = d.status?.counters ?? {}
    const droppedTotal = Object.values(c.dropped ?? {}).reduce((a, b) => a + b, 0)
    const prev = previous.get(id)
    const rate = prev && now > prev.at && c.sent !== undefined ? Math.max(0, (c.sent - prev.sent) / ((now - prev.at) / 1000)) : undefined
    if (c.sent !== undefined) previous.set(id, { sent: c.sent, at: now })
    const tr = document.createElement('tr')
    tr.append(
      cell(id),
      cell(`${src?.endpointRef ?? '?'} (${(src?.dataSources ?? []).join(', ')}) → ${dst?.endpointRef ?? '?'} (${dst?.dataDestination ?? ''})`),
      cell(ready(d)),
      cell(c.received ?? '—', 'num'), cell(c.sent ?? '—', 'num'), cell(droppedTotal, 'num'),
      cell(rate === undefined ? '—' : `${rate < 10 ? rate.toFixed(1) : Math.round(rate)}/s`, 'num'),
      cell(actions(
        button('Tail', `Tail dataflow ${id}`, () => { setTailFilters({ dataflow: d.metadata.name, namespace: d.metadata.namespace }); startTail(tailFilters()) }),
        button('YAML', `YAML of dataflow ${id}`, () => showYaml('dataflows', d))
      ))
    )
    return tr
  }))
}

async function refresh () {
  try {
    const lists = ['dataflowendpoints', 'dataflows', 'brokerlisteners', 'brokerauthentications', 'brokerauthorizations']
    const [eps, dfs, listeners, authentications, authorizations] = await Promise.all(lists.map((plural) => api('GET', `/api/v1/${plural}`)))
    endpoints = eps.items
    renderEndpoints(eps.items)
    renderDataflows(dfs.items, Date.now())
    renderDeviceAccess({ listeners: listeners.items, authentications: authentications.items, authorizations: authorizations.items }, refresh)
    $('poll-status').textContent = `Updated ${new Date().toLocaleTimeString()}`
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { signOut('The token was refused.'); return }
    $('poll-status').textContent = `Cannot reach the admin API: ${err.message}`
  }
}

function showApp () {
  $('sign-in').hidden = true
  $('app').hidden = false
  $('sign-out').hidden = false
  void refresh()
  clearInterval(timer)
  timer = setInterval(refresh, POLL_MS)
}

function signOut (message = '') {
  session.token = ''
  clearInterval(timer)
  stopTail()
  $('app').hidden = true
  $('sign-out').hidden = true
  $('sign-in').hidden = false
  $('token-error').textContent = message
  $('token').focus()
}

async function signIn (event) {
  event.preventDefault()
  const token = $('token').value.trim()
  $('token-error').textContent = ''
  if (token === '') { $('token-error').textContent = 'Enter the admin token.'; return }
  session.token = token
  try {
    await api('GET', '/api/v1/dataflowprofiles')
    $('token').value = ''
    showApp()
  } catch (err) {
    session.token = ''
    $('token-error').textContent = err instanceof ApiError && err.status === 401 ? 'That token was refused.' : `Cannot reach the admin API: ${err.message}`
    $('token').focus()
  }
}

function init () {
  initEndpointForm()
  initTail()
  $('sign-in-form').addEventListener('submit', signIn)
  $('sign-out').addEventListener('click', () => signOut())
  $('new-endpoint').addEventListener('click', () => openEndpointForm(undefined, refresh))
  $('new-dataflow').addEventListener('click', () => openDataflowForm(endpoints, refresh))
  for (const b of document.querySelectorAll('.close-dialog')) b.addEventListener('click', () => b.closest('dialog').close())
  $('apply-yaml').addEventListener('click', () => openApplyDialog(refresh))
  initYamlDialog()
  initApplyDialog()
  initDeleteDialog()
  initCaDialog()
  if (session.token !== '') showApp()
  else { $('sign-in').hidden = false; $('token').focus() }
}

init()
