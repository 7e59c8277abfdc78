import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { CliError } from '../errors.js'
import { ApiError, adminClient, clientFlags } from '../http-client.js'
import { enc } from './client-common.js'

export const createUsage = `flowgate create secret generic NAME [--from-literal=KEY=VALUE…] [--from-file=[KEY=]FILE…] [-n NAMESPACE]
flowgate create secret tls NAME --cert FILE --key FILE [-n NAMESPACE]
flowgate create secret passwords NAME --from-file FILE [-n NAMESPACE]
  FILE holds \`USER: HASH\` lines from \`flowgate passwd\`: one key per user, for a UsernamePassword BrokerAuthentication.
flowgate create configmap NAME [--from-file=[KEY=]FILE…] [--from-literal=KEY=VALUE…] [-n NAMESPACE]
  Creates a Secret or ConfigMap as kubectl does; fails if it exists (change it with apply).`

async function readArg (file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (err) {
    throw new CliError('FG_ERR_CLI_FILE', `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 1)
  }
}

/** `--from-literal=k=v` and `--from-file=[k=]path` into key → bytes, as kubectl reads them. */
async function entries (literals: string[], files: string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const l of literals) {
    const i = l.indexOf('=')
    if (i <= 0) throw new CliError('FG_ERR_CLI_BAD_FLAG', `--from-literal ${JSON.stringify(l)}: expected KEY=VALUE`, 2)
    out.set(l.slice(0, i), Buffer.from(l.slice(i + 1), 'utf8'))
  }
  for (const f of files) {
    const i = f.indexOf('=')
    const [key, path] = i > 0 ? [f.slice(0, i), f.slice(i + 1)] : [basename(f), f]
    out.set(key, await readArg(path))
  }
  return out
}

/** `create secret passwords`: one file of `user: hash` lines → Secret data, one key per user. */
async function passwordData (files: string[], literals: string[]): Promise<Record<string, string>> {
  // Literals would put plain passwords on the command line (and in shell history): only the file is taken.
  if (files.length !== 1 || literals.length > 0) throw new CliError('FG_ERR_CLI_USAGE', `create secret passwords takes one --from-file FILE and nothing else\n${createUsage}`, 2)
  const file = files[0]!
  // Loaded here, not above: it brings the broker's code, which the other create commands do without.
  const { parsePasswordFile } = await import('./passwd.js')
  const { users, errors } = parsePasswordFile((await readArg(file)).toString('utf8'))
  if (errors.length > 0) {
    const where = (line?: number): string => line === undefined ? file : `${file}:${line}`
    throw new CliError('FG_ERR_CLI_PASSWORD_FILE', errors.map((e) => `${where(e.line)}: ${e.message}`).join('; '), 1)
  }
  return Object.fromEntries([...users].map(([user, hash]) => [user, Buffer.from(hash, 'utf8').toString('base64')]))
}

export async function create (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...clientFlags,
      'from-literal': { type: 'string', multiple: true },
      'from-file': { type: 'string', multiple: true },
      cert: { type: 'string' },
      key: { type: 'string' }
    },
    allowPositionals: true,
    strict: true
  })
  const namespace = values.namespace ?? 'default'
  const [what, ...rest] = positionals
  let resource: Record<string, unknown>
  let name: string | undefined
  let plural: string
  if (what === 'secret') {
    const [type, n] = rest
    name = n
    plural = 'secrets'
    if (type === 'generic') {
      const data = await entries(values['from-literal'] ?? [], values['from-file'] ?? [])
      resource = { type: 'Opaque', data: Object.fromEntries([...data].map(([k, v]) => [k, v.toString('base64')])) }
    } else if (type === 'tls') {
      if (values.cert === undefined || values.key === undefined) throw new CliError('FG_ERR_CLI_USAGE', `create secret tls needs --cert and --key\n${createUsage}`, 2)
      resource = { type: 'kubernetes.io/tls', data: { 'tls.crt': (await readArg(values.cert)).toString('base64'), 'tls.key': (await readArg(values.key)).toString('base64') } }
    } else if (type === 'passwords') {
      resource = { type: 'Opaque', data: await passwordData(values['from-file'] ?? [], values['from-literal'] ?? []) }
    } else {
      throw new CliError('FG_ERR_CLI_USAGE', `create secret generic|tls|passwords NAME …\n${createUsage}`, 2)
    }
    resource = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, ...resource }
  } else if (what === 'configmap' || what === 'cm') {
    name = rest[0]
    plural = 'configmaps'
    const data = await entries(values['from-literal'] ?? [], values['from-file'] ?? [])
    resource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: Object.fromEntries([...data].map(([k, v]) => [k, v.toString('utf8')])) }
  } else {
    throw new CliError('FG_ERR_CLI_USAGE', createUsage, 2)
  }
  if (name === undefined) throw new CliError('FG_ERR_CLI_USAGE', `create needs a name\n${createUsage}`, 2)
  const client = adminClient(values)
  const path = `/api/v1/namespaces/${enc(namespace)}/${plural}/${enc(name)}`
  const exists = await client.request('GET', path).then(() => true, (err) => {
    if (err instanceof ApiError && err.status === 404) return false
    throw err
  })
  const singular = plural.slice(0, -1)
  if (exists) throw new CliError('FG_ERR_CLI_EXISTS', `${singular}/${name} already exists in namespace ${namespace} (change it with apply)`, 1)
  try {
    await client.request('PUT', path, resource)
  } catch (err) {
    if (err instanceof ApiError && err.body.errors !== undefined) {
      throw new CliError(err.code, `${err.message}: ${err.body.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, 1)
    }
    throw err
  }
  process.stdout.write(`${singular}/${name} created\n`)
  return 0
}
