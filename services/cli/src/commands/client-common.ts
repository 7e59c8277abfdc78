import { kindInfo, KINDS, type KindInfo } from '@flowgate/resources'
import { CliError } from '../errors.js'

/** A kind from what a person types: `dataflowendpoint`, `dataflowendpoints`, `DataflowEndpoint`, `dfe`, `endpoint`. */
export function kindArg (name: string | undefined): KindInfo {
  if (name === undefined) throw new CliError('FG_ERR_CLI_USAGE', `name a kind: ${KINDS.map((k) => k.plural).join(', ')}`, 2)
  const info = kindInfo(name)
  if (info === undefined) throw new CliError('FG_ERR_CLI_UNKNOWN_KIND', `unknown kind ${JSON.stringify(name)}: one of ${KINDS.map((k) => k.plural).join(', ')}`, 1)
  return info
}

export const enc = encodeURIComponent
