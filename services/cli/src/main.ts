import { CliError, FG_ERR_CLI_USAGE } from './errors.js'
import { applyRuntimeV8Flags } from './node-flags.js'

type Command = (argv: string[]) => Promise<number>
type Loaded = { run: Command, usage: string }

// Commands load on first use: `flowgate get` should not pay for loading the gateway, Kafka and the broker.
const commands: Record<string, () => Promise<Loaded>> = {
  start: async () => { const m = await import('./commands/start.js'); return { run: m.start, usage: m.startUsage } },
  translator: async () => { const m = await import('./commands/translator.js'); return { run: m.translator, usage: m.translatorUsage } },
  ingress: async () => { const m = await import('./commands/ingress.js'); return { run: m.ingress, usage: m.ingressUsage } },
  egress: async () => { const m = await import('./commands/egress.js'); return { run: m.egress, usage: m.egressUsage } },
  admin: async () => { const m = await import('./commands/admin.js'); return { run: m.admin, usage: m.adminUsage } },
  apply: async () => { const m = await import('./commands/apply.js'); return { run: m.apply, usage: m.applyUsage } },
  get: async () => { const m = await import('./commands/get.js'); return { run: m.get, usage: m.getUsage } },
  delete: async () => { const m = await import('./commands/delete.js'); return { run: m.del, usage: m.deleteUsage } },
  create: async () => { const m = await import('./commands/create.js'); return { run: m.create, usage: m.createUsage } },
  passwd: async () => { const m = await import('./commands/passwd.js'); return { run: (argv) => m.passwd(argv), usage: m.passwdUsage } },
  tail: async () => { const m = await import('./commands/tail.js'); return { run: (argv) => m.tail(argv), usage: m.tailUsage } }
}

/** The commands whose processes carry messages: they run with the gateway's runtime V8 flags. */
const messageCarriers = new Set(['start', 'ingress', 'egress'])

async function usage (): Promise<string> {
  const loaded = await Promise.all(Object.values(commands).map(async (load) => (await load()).usage))
  return ['usage: flowgate <command> [options]', '', ...loaded].join('\n')
}

/**
 * The argv without the `--` a package runner passes through: `pnpm start -- --mqtt-port 1883` runs
 * `flowgate.mjs start -- --mqtt-port 1883` and `pnpm flowgate -- get x` runs `flowgate.mjs -- get x`. Left there,
 * parseArgs would read every flag after it as a positional. Only the first argument and the one right after the
 * command name are the runner's; a `--` further on still ends the options (`get secrets -- -odd-name`).
 */
export function withoutRunnerSeparator (argv: string[]): string[] {
  const args = argv[0] === '--' ? argv.slice(1) : argv
  return args[1] === '--' ? [args[0]!, ...args.slice(2)] : args
}

/** Entry point of the `flowgate` command; returns the process exit code. */
export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = withoutRunnerSeparator(argv)
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(await usage() + '\n')
    return name === undefined ? 2 : 0
  }
  const command = commands[name]
  try {
    if (command === undefined) throw FG_ERR_CLI_USAGE(`unknown command ${JSON.stringify(name)}; run \`flowgate help\``)
    const loaded = await command()
    // `flowgate start --help`: that command's usage, before its flags are parsed (and refused).
    if (rest[0] === '--help' || rest[0] === '-h') {
      process.stdout.write(`usage: ${loaded.usage}\n`)
      return 0
    }
    if (messageCarriers.has(name)) applyRuntimeV8Flags()
    return await loaded.run(rest)
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
