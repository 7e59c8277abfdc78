import { parseArgs } from 'node:util'
import { CliError } from '../errors.js'
import { adminClient, clientFlags } from '../http-client.js'
import { enc, kindArg } from './client-common.js'

export const deleteUsage = `flowgate delete KIND NAME [-n NAMESPACE] [--server URL] [--token T]
  Deletes a resource; refused while another resource still refers to it.`

export async function del (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: clientFlags, allowPositionals: true, strict: true })
  const info = kindArg(positionals[0])
  const name = positionals[1]
  if (name === undefined) throw new CliError('FG_ERR_CLI_USAGE', `delete needs a name\n${deleteUsage}`, 2)
  const namespace = values.namespace ?? 'default'
  await adminClient(values).request('DELETE', `/api/v1/namespaces/${enc(namespace)}/${info.plural}/${enc(name)}`)
  process.stdout.write(`${info.singular}/${name} deleted\n`)
  return 0
}
