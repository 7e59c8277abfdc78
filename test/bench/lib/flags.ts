/**
 * A bench's own `--name value` or `--name=value` from the command line (run.ts leaves those pairs to the benches);
 * undefined when absent.
 */
export function flag (name: string): string | undefined {
  const argv = process.argv
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1]
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3)
  }
  return undefined
}
