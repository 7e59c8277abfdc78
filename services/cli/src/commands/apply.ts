import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { ManifestSyntaxError, parseManifests, type ManifestDocument } from '@flowgate/resources'
import { CliError } from '../errors.js'
import { ApiError, adminClient, clientFlags } from '../http-client.js'

export const applyUsage = `flowgate apply -f FILE|- [-f FILE…] [--server URL] [--token T]
  Creates or updates the resources of a JSON or (multi-document) YAML file, all or nothing, in dependency order.`

interface ApplyResult { kind: string, name: string, namespace: string, result: string }

async function readSource (file: string): Promise<{ text: string, filename: string }> {
  if (file === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return { text: Buffer.concat(chunks).toString('utf8'), filename: '<stdin>' }
  }
  try {
    return { text: await readFile(file, 'utf8'), filename: file }
  } catch (err) {
    throw new CliError('FG_ERR_CLI_FILE', `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 1)
  }
}

/**
 * Errors of the API as `FILE:LINE: path: message (allowed: …)`, one a line. The API's paths start with the document
 * index (`/2/spec/…`); the local parse of the same text maps the rest to the line in the file.
 */
export function formatApiErrors (err: ApiError, filename: string, docs: ManifestDocument[]): string[] {
  const errors = err.body.errors ?? []
  if (errors.length === 0) return [`${filename}: ${err.message} [${err.code}]`]
  return errors.map((e) => {
    const m = /^\/(\d+)(\/.*)?$/.exec(e.path)
    const doc = m !== null ? docs[Number(m[1])] : undefined
    const path = m !== null ? (m[2] ?? '/') : e.path
    const line = doc?.lineOf(path === '/' ? '' : path) ?? 1
    const allowed = e.allowed !== undefined && e.allowed.length > 0 ? ` (allowed: ${e.allowed.join(', ')})` : ''
    return `${filename}:${line}: ${path}: ${e.message}${allowed}`
  })
}

export async function apply (argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...clientFlags, filename: { type: 'string', short: 'f', multiple: true } }, strict: true })
  const files = values.filename ?? []
  if (files.length === 0) throw new CliError('FG_ERR_CLI_USAGE', `apply needs -f FILE or -f -\n${applyUsage}`, 2)
  const client = adminClient(values)
  let failed = false
  for (const file of files) {
    const { text, filename } = await readSource(file)
    let docs: ManifestDocument[]
    try {
      docs = parseManifests(text, { filename })
    } catch (err) {
      if (err instanceof ManifestSyntaxError) throw new CliError(err.code, err.message, 1)
      throw err
    }
    if (docs.length === 0) throw new CliError('FG_ERR_CLI_EMPTY', `${filename}: no resources`, 1)
    // A -n given on the command line fills in documents that name no namespace, as kubectl does.
    const namespace = values.namespace
    const body = namespace === undefined
      ? { text, contentType: 'application/yaml' }
      : docs.map((d) => withNamespace(d.value, namespace))
    try {
      const { results } = await client.request<{ results: ApplyResult[] }>('POST', '/api/v1/apply', body)
      for (const r of results) process.stdout.write(`${r.kind.toLowerCase()}/${r.name} ${r.result}\n`)
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      for (const line of formatApiErrors(err, filename, docs)) process.stderr.write(line + '\n')
      process.stderr.write(`flowgate: ${filename}: nothing applied: ${err.message} [${err.code}]\n`)
      failed = true
    }
  }
  return failed ? 1 : 0
}

function withNamespace (doc: unknown, namespace: string): unknown {
  if (typeof doc !== 'object' || doc === null) return doc
  const d = doc as { metadata?: { namespace?: string } }
  if (typeof d.metadata === 'object' && d.metadata !== null && d.metadata.namespace === undefined) return { ...d, metadata: { ...d.metadata, namespace } }
  return doc
}
