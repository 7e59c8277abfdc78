import { applyYaml, ApiError } from './api.js'
import { describeApplyError } from './apply-errors.js'
import { $ } from './dom.js'

// "Apply YAML": what `flowgate apply -f` does, for someone holding AIO's docs and no CLI. The text goes to the
// server as written (application/yaml), so its answers name documents and lines of exactly this text.

let onApplied

export function openApplyDialog (applied) {
  onApplied = applied
  // A fresh, empty text each time: pasted Secrets do not linger in the page for the next person who opens it.
  $('apply-text').value = ''
  $('apply-text').removeAttribute('aria-invalid')
  showOutcome('', [], [])
  $('apply-status').textContent = ''
  $('apply-dialog').showModal()
  $('apply-text').focus()
}

function showOutcome (message, problems, results) {
  $('apply-error').textContent = message
  $('apply-problems').replaceChildren(...problems.map(problemItem))
  $('apply-problems').hidden = problems.length === 0
  $('apply-results').replaceChildren(...results.map(resultItem))
  $('apply-results').hidden = results.length === 0
}

function resultItem (r) {
  const li = document.createElement('li')
  const outcome = document.createElement('span')
  outcome.className = `badge ${r.result === 'unchanged' ? 'pending' : 'ready'}`
  outcome.textContent = r.result
  li.append(outcome, ` ${r.kind} `)
  const id = document.createElement('span')
  id.className = 'mono'
  id.textContent = `${r.namespace}/${r.name}`
  li.append(id)
  return li
}

function problemItem (p) {
  const li = document.createElement('li')
  const where = [p.document !== undefined ? `Document ${p.document}` : undefined, p.resource].filter(Boolean).join(' · ')
  if (where !== '') {
    const span = document.createElement('span')
    span.className = 'where'
    span.textContent = where
    li.append(span)
  }
  if (p.line !== undefined) {
    const jump = document.createElement('button')
    jump.type = 'button'
    jump.className = 'link'
    jump.textContent = `line ${p.line}`
    jump.setAttribute('aria-label', `Go to line ${p.line} of the text`)
    jump.addEventListener('click', () => selectLine($('apply-text'), p.line))
    li.append(jump)
  }
  if (p.path !== undefined && p.path !== '') {
    const code = document.createElement('code')
    code.className = 'path'
    code.textContent = p.path
    li.append(code)
  }
  const message = document.createElement('span')
  message.textContent = p.message
  li.append(message)
  return li
}

/** Selects a 1-based line of a textarea and scrolls it into view, for "line 14" in an error. */
function selectLine (textarea, line) {
  const all = textarea.value.split('\n')
  const index = Math.min(Math.max(line, 1), all.length) - 1
  const start = all.slice(0, index).reduce((n, l) => n + l.length + 1, 0)
  textarea.focus()
  textarea.setSelectionRange(start, start + all[index].length)
  // Two lines of context above the selected one.
  textarea.scrollTop = Math.max(0, index - 2) * (textarea.scrollHeight / all.length)
}

async function submit (event) {
  event.preventDefault()
  const text = $('apply-text').value
  $('apply-text').removeAttribute('aria-invalid')
  if (text.trim() === '') {
    showOutcome('Paste one or more resources first.', [], [])
    $('apply-text').setAttribute('aria-invalid', 'true')
    $('apply-text').focus()
    return
  }
  $('apply-submit').disabled = true
  showOutcome('', [], [])
  $('apply-status').textContent = 'Applying…'
  try {
    const { results } = await applyYaml(text)
    $('apply-status').textContent = `Applied ${results.length} resource${results.length === 1 ? '' : 's'}.`
    showOutcome('', [], results)
    onApplied?.()
  } catch (err) {
    $('apply-status').textContent = ''
    if (!(err instanceof ApiError)) { showOutcome(`Cannot reach the admin API: ${err.message}`, [], []); return }
    const { summary, problems } = describeApplyError(err.status, err.body)
    showOutcome(summary, problems, [])
    $('apply-text').setAttribute('aria-invalid', 'true')
  } finally {
    $('apply-submit').disabled = false
  }
}

export function initApplyDialog () {
  $('apply-form').addEventListener('submit', submit)
}
