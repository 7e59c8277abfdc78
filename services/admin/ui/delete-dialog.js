import { api, ApiError, resourcePath } from './api.js'
import { $ } from './dom.js'

// Deleting asks first, in a dialog whose default button is Cancel. A refusal (409: another resource still names
// this one) stays in the dialog, so the user reads which listener to change first.

let pending

export function confirmDelete (plural, r, onDeleted) {
  const id = `${r.metadata.namespace}/${r.metadata.name}`
  pending = { plural, r, onDeleted }
  $('delete-title').textContent = `Delete ${r.kind} ${id}?`
  $('delete-text').textContent = r.kind === 'BrokerListener'
    ? 'Its ports close and connected devices are disconnected.'
    : 'Listeners must not refer to it any more; the API refuses otherwise.'
  $('delete-error').textContent = ''
  $('delete-confirm').disabled = false
  $('delete-dialog').showModal()
}

async function remove (event) {
  event.preventDefault()
  if (pending === undefined) return
  const { plural, r, onDeleted } = pending
  $('delete-confirm').disabled = true
  try {
    await api('DELETE', resourcePath(plural, r.metadata.namespace, r.metadata.name))
    pending = undefined
    $('delete-dialog').close()
    onDeleted?.()
  } catch (err) {
    const gone = err instanceof ApiError && err.status === 404
    $('delete-error').textContent = gone ? 'It was already deleted.' : `Not deleted: ${err.message}`
    // Gone already: nothing left to retry, and the tables should stop showing it.
    $('delete-confirm').disabled = gone
    if (gone) onDeleted?.()
  }
}

export function initDeleteDialog () {
  $('delete-form').addEventListener('submit', remove)
}
