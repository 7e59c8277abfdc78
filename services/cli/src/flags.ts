import { FG_ERR_CLI_BAD_FLAG } from './errors.js'

/**
 * A flag's value from the command line, else from its `FLOWGATE_*` environment twin (DESIGN §5):
 * `http-port` ↔ `FLOWGATE_HTTP_PORT`.
 */
export function flagOrEnv (values: Record<string, unknown>, flag: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = values[flag]
  if (typeof v === 'string') return v
  return env[`FLOWGATE_${flag.toUpperCase().replaceAll('-', '_')}`]
}

export function portFlag (values: Record<string, unknown>, flag: string, env?: NodeJS.ProcessEnv): number | undefined {
  const raw = flagOrEnv(values, flag, env)
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw FG_ERR_CLI_BAD_FLAG(flag, raw, 'a port number from 0 to 65535')
  return n
}
