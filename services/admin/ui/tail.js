import { session } from './api.js'

// The live tail pane: a WebSocket to /api/v1/tail, rows rendered at most once per animation frame so a thousand
// messages a second cost one DOM update per frame, and only the newest MAX_ROWS kept.
const MAX_ROWS = 500
const PREVIEW = 200

let ws
let pending = []
let scheduled = false
let paused = false
let skipped = 0
let received = 0
let dropped = 0

const $ = (id) => document.getElementById(id)

function status (text) { $('tail-status').textContent = text }

function summary () {
  const parts = [`${received} received`]
  if (dropped > 0) parts.push(`${dropped} dropped by the server (slow reader)`)
  if (skipped > 0) parts.push(`${skipped} skipped while paused`)
  return parts.join(' · ')
}

function cell (text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  return td
}

function row (f) {
  const tr = document.createElement('tr')
  const d = f.destination ?? {}
  const p = f.payload ?? {}
  let preview = p.encoding === 'base64' ? `base64:${p.data}` : String(p.data ?? '')
  if (preview.length > PREVIEW) preview = preview.slice(0, PREVIEW) + '…'
  else if (p.truncated) preview += '…'
  const time = typeof f.ts === 'string' ? f.ts.slice(11, 23) : ''
  tr.append(
    cell(time, 'mono'),
    cell(`${f.namespace}/${f.dataflow}`),
    cell(`${f.source?.topic ?? '?'} → ${d.topic ?? '?'}${d.partition !== undefined ? `[${d.partition}]` : ''}`, 'mono'),
    cell(d.key ?? f.source?.key ?? '', 'mono'),
    cell(preview, 'mono payload')
  )
  if (f.dropped) tr.title = `${f.dropped} messages dropped before this one`
  return tr
}

function flush () {
  scheduled = false
  if (paused || pending.length === 0) return
  const body = $('tail-table').tBodies[0]
  const batch = pending.slice(-MAX_ROWS)
  pending = []
  const fragment = document.createDocumentFragment()
  for (let i = batch.length - 1; i >= 0; i--) fragment.append(row(batch[i]))
  body.prepend(fragment)
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1)
  status(`Connected · ${summary()}`)
}

function schedule () {
  if (!scheduled) { scheduled = true; requestAnimationFrame(flush) }
}

function onFrame (frame) {
  received++
  if (frame.dropped) dropped += frame.dropped
  if (paused && pending.length >= MAX_ROWS) { pending.shift(); skipped++ }
  pending.push(frame)
  if (!paused) schedule()
}

export function stopTail () {
  if (ws) { ws.onclose = null; ws.close(1000); ws = undefined }
  $('tail-connect').textContent = 'Start'
  $('tail-pause').disabled = true
  status('Disconnected')
}

export function startTail (filters) {
  stopTail()
  $('tail-error').textContent = ''
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== ''))
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/tail${query.size > 0 ? `?${query}` : ''}`
  const socket = new WebSocket(url)
  ws = socket
  received = dropped = skipped = 0
  status('Connecting…')
  // A browser cannot set an Authorization header on a WebSocket: the token goes in the first message.
  socket.onopen = () => { socket.send(JSON.stringify({ type: 'auth', token: session.token })); status(`Connected · ${summary()}`) }
  socket.onmessage = (event) => { try { onFrame(JSON.parse(event.data)) } catch {} }
  socket.onclose = (event) => {
    ws = undefined
    stopTail()
    if (event.code === 4401) $('tail-error').textContent = `The tail refused the token: ${event.reason}`
    else if (event.code === 4400) $('tail-error').textContent = `Bad filter: ${event.reason}`
    else if (event.code !== 1000) $('tail-error').textContent = `The tail closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`
  }
  $('tail-connect').textContent = 'Restart'
  $('tail-pause').disabled = false
  setPaused(false)
}

function setPaused (value) {
  paused = value
  const button = $('tail-pause')
  button.setAttribute('aria-pressed', String(value))
  button.textContent = value ? 'Resume' : 'Pause'
  if (!value) schedule()
  else status(`Paused · ${summary()}`)
}

export function tailFilters () {
  const f = $('tail-form')
  return Object.fromEntries(['dataflow', 'namespace', 'topic', 'direction'].map((n) => [n, f.elements.namedItem(n).value.trim()]))
}

export function setTailFilters (filters) {
  const f = $('tail-form')
  for (const [k, v] of Object.entries(filters)) f.elements.namedItem(k).value = v
}

export function initTail () {
  $('tail-form').addEventListener('submit', (event) => { event.preventDefault(); startTail(tailFilters()) })
  $('tail-pause').addEventListener('click', () => setPaused(!paused))
  $('tail-clear').addEventListener('click', () => { $('tail-table').tBodies[0].replaceChildren(); pending = [] })
}
