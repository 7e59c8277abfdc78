// The few DOM builders every table of the page uses, so rows look and read the same everywhere.

export const $ = (id) => document.getElementById(id)

/** A button whose visible text may be short ("YAML") while its accessible name says what it acts on. */
export function button (text, label, onClick, className) {
  const b = document.createElement('button')
  b.type = 'button'
  b.textContent = text
  b.setAttribute('aria-label', label)
  if (className) b.className = className
  b.addEventListener('click', onClick)
  return b
}

export function cell (content, className) {
  const td = document.createElement('td')
  if (content instanceof Node) td.append(content)
  else td.textContent = content ?? ''
  if (className) td.className = className
  return td
}

export function actions (...buttons) {
  const div = document.createElement('div')
  div.className = 'actions'
  div.append(...buttons)
  return div
}

/**
 * `namespace/name` that, when the column is narrow, breaks after the slash only (not at every hyphen of
 * `azure-iot-operations`); its text stays `namespace/name` for reading and copying.
 */
export function qualifiedName (r) {
  const span = document.createElement('span')
  span.className = 'qualified-name'
  const ns = document.createElement('span')
  ns.textContent = `${r.metadata.namespace}/`
  const name = document.createElement('span')
  name.textContent = r.metadata.name
  span.append(ns, document.createElement('wbr'), name)
  return span
}

/** One line per item (ports of a listener, notes): a cell stays a column of short lines instead of one long one. */
export function lines (items, className) {
  const div = document.createElement('div')
  div.className = 'lines'
  for (const item of items) {
    const line = document.createElement('div')
    if (item instanceof Node) line.append(item)
    else line.textContent = item
    if (className) line.className = className
    div.append(line)
  }
  return div
}

/** The Ready condition as a badge; without a status (the runtime has not written one yet) it reads Unknown. */
export function ready (r) {
  const c = r.status?.conditions?.find((x) => x.type === 'Ready')
  const span = document.createElement('span')
  const state = c?.status === 'True' ? 'ready' : c?.status === 'False' ? 'failed' : 'pending'
  span.className = `badge ${state}`
  span.textContent = c?.status === 'True' ? 'Ready' : (c?.reason ?? c?.status ?? 'Unknown')
  if (c?.message) span.title = c.message
  return span
}

/** A row spanning the table, for "nothing here yet" with what to do about it. */
export function emptyRow (table, text) {
  const tr = document.createElement('tr')
  tr.className = 'empty'
  const td = cell(text, 'muted')
  td.colSpan = table.tHead.rows[0].cells.length
  tr.append(td)
  return tr
}

/** Copies a <pre>'s text; where the clipboard is refused (plain http off localhost), selects it for Ctrl+C. */
export async function copyText (pre, statusLine) {
  try {
    await navigator.clipboard.writeText(pre.textContent)
    statusLine.textContent = 'Copied'
  } catch {
    getSelection().selectAllChildren(pre)
    statusLine.textContent = 'Selected: press Ctrl+C'
  }
}
