import { ManifestSyntaxError, parseManifests, type ManifestDocument } from '@flowgate/resources'
import { FG_ERR_BODY, FG_ERR_MANIFEST_SYNTAX } from './errors.js'

/**
 * Request bodies arrive as text whatever their content type (JSON is YAML): one parser, one kind of syntax error
 * with line and column, and the line of every later validation error.
 */
export function parseBody (body: unknown, filename = 'request body'): ManifestDocument[] {
  if (typeof body !== 'string' || body.trim() === '') throw FG_ERR_BODY('empty body: send a resource as JSON or YAML')
  try {
    return parseManifests(body, { filename })
  } catch (err) {
    if (err instanceof ManifestSyntaxError) throw FG_ERR_MANIFEST_SYNTAX(err.message, err.line, err.col)
    throw err
  }
}

/** The content types the API reads (DESIGN §3); anything else textual is tried as YAML too. */
export const BODY_CONTENT_TYPES = ['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'] as const
