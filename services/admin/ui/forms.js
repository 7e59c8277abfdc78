// Field errors from the API, shown next to the field whose data-path matches the error's JSON Pointer.

export function clearErrors (form) {
  for (const el of form.querySelectorAll('.field-error')) el.remove()
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid')
  const general = form.querySelector('.error[role="alert"]')
  if (general) general.textContent = ''
}

function fieldFor (form, path) {
  const fields = [...form.querySelectorAll('.field[data-path]')].filter((f) => !f.closest('[hidden]'))
  const exact = fields.find((f) => f.dataset.resolved === path)
  if (exact) return exact
  // The deepest field under the error (a `required` on an object names the object), else the deepest above it.
  const below = fields.filter((f) => f.dataset.resolved.startsWith(path + '/'))
  if (below.length > 0) return below[0]
  return fields.filter((f) => path.startsWith(f.dataset.resolved + '/')).sort((a, b) => b.dataset.resolved.length - a.dataset.resolved.length)[0]
}

export function showFieldError (form, path, message, allowed) {
  const field = fieldFor(form, path)
  const text = message + (Array.isArray(allowed) && allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : '')
  if (!field) return false
  const control = field.querySelector('input, select, textarea')
  const p = document.createElement('p')
  p.className = 'error field-error'
  p.id = `${control?.id ?? 'field'}-error`
  p.textContent = text
  field.append(p)
  if (control) {
    control.setAttribute('aria-invalid', 'true')
    control.setAttribute('aria-describedby', p.id)
  }
  return true
}

/** Puts each of an ApiError's `errors[]` next to its field; what has no field goes to the form's general line. */
export function showApiError (form, err) {
  const general = form.querySelector('.error[role="alert"]')
  const errors = Array.isArray(err.body?.errors) ? err.body.errors : []
  const unplaced = errors.filter((e) => !showFieldError(form, e.path, e.message, e.allowed))
  const summary = err.body?.message ?? err.message
  general.textContent = unplaced.length > 0 ? `${summary}: ${unplaced.map((e) => `${e.path} ${e.message}`).join('; ')}` : summary
  form.querySelector('[aria-invalid="true"]')?.focus()
}

/** data-path may hold `{settings}`, filled per form state; the resolved path is what errors are matched against. */
export function resolvePaths (form, vars) {
  for (const f of form.querySelectorAll('.field[data-path]')) {
    f.dataset.resolved = f.dataset.path.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? name)
  }
}

export const value = (form, name) => form.elements.namedItem(name).value.trim()
export const checked = (form, name) => form.elements.namedItem(name).checked
