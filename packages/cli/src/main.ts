import { CliError, FG_ERR_CLI_USAGE } from './errors.js'
import { start, startUsage } from './commands/start.js'
import { apply, applyUsage } from './commands/apply.js'
import { get, getUsage } from './commands/get.js'
import { del, deleteUsage } from './commands/delete.js'
import { create, createUsage } from './commands/create.js'

type Command = (argv: string[]) => Promise<number>

const commands: Record<string, { run: Command, usage: string }> = {
  start: { run: start, usage: startUsage },
  apply: { run: apply, usage: applyUsage },
  get: { run: get, usage: getUsage },
  delete: { run: del, usage: deleteUsage },
  create: { run: create, usage: createUsage }
}

function usage (): string {
  return ['usage: flowgate <command> [options]', '', ...Object.values(commands).map((c) => c.usage)].join('\n')
}

/** Entry point of the `flowgate` command; returns the process exit code. */
export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n')
    return name === undefined ? 2 : 0
  }
  const command = commands[name]
  try {
    if (command === undefined) throw FG_ERR_CLI_USAGE(`unknown command ${JSON.stringify(name)}\n${usage()}`)
    return await command.run(rest)
  } catch (err) {
    return report(err)
  }
}

/** Prints one line a person can act on; stack traces only with FLOWGATE_DEBUG=1. */
function report (err: unknown): number {
  const e = err as Error & { code?: string, exitCode?: number }
  const code = typeof e.code === 'string' ? ` [${e.code}]` : ''
  process.stderr.write(`flowgate: ${e.message ?? String(err)}${code}\n`)
  if (process.env.FLOWGATE_DEBUG === '1' && e.stack) process.stderr.write(e.stack + '\n')
  if (err instanceof CliError) return err.exitCode
  // node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed flags.
  if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) return 2
  return 1
}
