// What POST /api/v1/apply answers when it refuses (services/admin/src/errors.ts), as lines a person can act on.
// Field errors carry the document's index as the first path segment (`/2/spec/ports/0/protocol`); shown apart,
// counted from 1 as an editor would, the rest of the path is the field within that resource.

/**
 * @returns {{ summary: string, problems: Array<{ document?: number, resource?: string, line?: number, col?: number, path?: string, message: string }> }}
 */
export function describeApplyError (status, body = {}) {
  const errors = Array.isArray(body.errors) ? body.errors : []
  const problems = errors.map((e) => ({ ...splitDocument(e), message: withAllowed(e) }))
  // A YAML syntax error has no field, only a place in the text.
  if (problems.length === 0 && body.line !== undefined) problems.push({ line: body.line, col: body.col, message: body.message ?? 'syntax error' })
  return { summary: summaryOf(status, body), problems }
}

function splitDocument (e) {
  const path = typeof e.path === 'string' ? e.path : ''
  const m = /^\/(\d+)(\/.*)?$/.exec(path)
  const document = Number.isInteger(e.document) ? e.document : m ? Number(m[1]) : undefined
  const inResource = m && Number(m[1]) === document ? (m[2] ?? '/') : path
  return {
    ...(document !== undefined ? { document: document + 1 } : {}),
    ...(typeof e.resource === 'string' && e.resource !== '' ? { resource: e.resource } : {}),
    ...(Number.isInteger(e.line) ? { line: e.line } : {}),
    path: inResource
  }
}

function withAllowed (e) {
  const allowed = Array.isArray(e.allowed) && e.allowed.length > 0 ? ` (allowed: ${e.allowed.join(', ')})` : ''
  return `${e.message ?? 'invalid'}${allowed}`
}

function summaryOf (status, body) {
  switch (body.code) {
    case 'FG_ERR_VALIDATION': return `Nothing applied: ${body.message ?? 'invalid resources'}.`
    case 'FG_ERR_MANIFEST_SYNTAX': return 'Nothing applied: the text is not valid YAML.'
    case 'FG_ERR_DANGLING_REFERENCE': return `Nothing applied: ${body.message}. Apply what it names first, or in the same text.`
    case 'FG_ERR_CONFLICT': return `Nothing applied: ${body.message}. Someone changed it meanwhile: remove metadata.resourceVersion or read it again.`
    default: return `Nothing applied (HTTP ${status}): ${body.message ?? 'the request was refused'}.`
  }
}
