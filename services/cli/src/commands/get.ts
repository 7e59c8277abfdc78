import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import type { KindInfo } from '@flowgate/resources'
import { CliError } from '../errors.js'
import { adminClient, clientFlags } from '../http-client.js'
import { enc, kindArg } from './client-common.js'

export const getUsage = `flowgate get KIND [NAME] [-n NAMESPACE] [-o table|yaml|json] [--server URL] [--token T]
  Lists or shows resources. KIND: dataflowendpoints (endpoint, dfe), dataflows (df), dataflowprofiles (profile),
  secrets, configmaps (cm). Without -n, every namespace. Secret values are never shown, only their keys.`

type Doc = Record<string, any>

function readyColumn (r: Doc): string {
  const ready = (r.status?.conditions as Doc[] | undefined)?.find((c) => c.type === 'Ready')
  if (ready === undefined) return 'Unknown'
  if (ready.status === 'True') return 'Ready'
  return ready.reason ?? ready.status ?? 'Unknown'
}

function age (r: Doc, now = Date.now()): string {
  const t = Date.parse(r.metadata?.creationTimestamp ?? '')
  if (Number.isNaN(t)) return '-'
  const s = Math.max(0, Math.floor((now - t) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

/** The columns of `get`'s table per kind, after NAMESPACE and NAME; AGE last. */
const columns: Record<string, Array<[string, (r: Doc) => string]>> = {
  DataflowEndpoint: [
    ['TYPE', (r) => r.spec?.endpointType ?? ''],
    ['HOST', (r) => (r.spec?.kafkaSettings ?? r.spec?.mqttSettings)?.host ?? ''],
    ['AUTH', (r) => (r.spec?.kafkaSettings ?? r.spec?.mqttSettings)?.authentication?.method ?? ''],
    ['STATUS', readyColumn]
  ],
  Dataflow: [
    ['MODE', (r) => r.spec?.mode ?? ''],
    ['SOURCE', (r) => op(r, 'Source')?.sourceSettings?.endpointRef ?? ''],
    ['DESTINATION', (r) => op(r, 'Destination')?.destinationSettings?.endpointRef ?? ''],
    ['STATUS', readyColumn]
  ],
  DataflowProfile: [['INSTANCES', (r) => String(r.spec?.instanceCount ?? '')]],
  Secret: [['TYPE', (r) => r.type ?? ''], ['DATA', (r) => String(Object.keys(r.data ?? {}).length)]],
  ConfigMap: [['DATA', (r) => String(Object.keys(r.data ?? {}).length)]]
}

function op (r: Doc, type: string): Doc | undefined {
  return (r.spec?.operations as Doc[] | undefined)?.find((o) => o.operationType === type)
}

export function table (info: KindInfo, items: Doc[], now = Date.now()): string {
  const cols: Array<[string, (r: Doc) => string]> = [
    ['NAMESPACE', (r) => r.metadata.namespace],
    ['NAME', (r) => r.metadata.name],
    ...(columns[info.kind] ?? []),
    ['AGE', (r) => age(r, now)]
  ]
  const rows = [cols.map(([h]) => h), ...items.map((r) => cols.map(([, f]) => f(r)))]
  const widths = cols.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  return rows.map((row) => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3)).join('')).join('\n') + '\n'
}

export async function get (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...clientFlags, output: { type: 'string', short: 'o' }, 'all-namespaces': { type: 'boolean', short: 'A' } },
    allowPositionals: true,
    strict: true
  })
  const info = kindArg(positionals[0])
  const name = positionals[1]
  const output = values.output ?? 'table'
  if (!['table', 'yaml', 'json', 'wide'].includes(output)) throw new CliError('FG_ERR_CLI_BAD_FLAG', `-o ${output}: expected yaml, json or table`, 2)
  const client = adminClient(values)
  const namespace = values['all-namespaces'] === true ? undefined : values.namespace
  let items: Doc[]
  let single: Doc | undefined
  if (name !== undefined && namespace !== undefined) {
    single = await client.request('GET', `/api/v1/namespaces/${enc(namespace)}/${info.plural}/${enc(name)}`)
    items = [single!]
  } else {
    const path = namespace === undefined ? `/api/v1/${info.plural}` : `/api/v1/namespaces/${enc(namespace)}/${info.plural}`
    items = (await client.request<{ items: Doc[] }>('GET', path)).items
    if (name !== undefined) {
      // A name without -n: found in whichever namespace holds it, if only one does.
      items = items.filter((r) => r.metadata.name === name)
      if (items.length === 0) throw new CliError('FG_ERR_NOT_FOUND', `${info.singular}/${name} not found in any namespace`, 1)
      if (items.length > 1) throw new CliError('FG_ERR_CLI_AMBIGUOUS', `${info.singular}/${name} exists in namespaces ${items.map((r) => r.metadata.namespace).join(', ')}: give -n`, 1)
      single = items[0]
    }
  }
  if (output === 'json') process.stdout.write(JSON.stringify(single ?? { apiVersion: 'v1', kind: 'List', items }, null, 2) + '\n')
  else if (output === 'yaml') process.stdout.write(stringify(single ?? { apiVersion: 'v1', kind: 'List', items }))
  else if (items.length === 0) process.stderr.write(`No ${info.plural} found${namespace !== undefined ? ` in namespace ${namespace}` : ''}.\n`)
  else process.stdout.write(table(info, items))
  return 0
}
