/** A failure the CLI reports as one line (`flowgate: …`) and an exit code, never as a stack trace. */
export class CliError extends Error {
  readonly code: string
  readonly exitCode: number
  constructor (code: string, message: string, exitCode = 1) {
    super(message)
    this.name = 'CliError'
    this.code = code
    this.exitCode = exitCode
  }
}

export const FG_ERR_CLI_USAGE = (message: string): CliError => new CliError('FG_ERR_CLI_USAGE', message, 2)
export const FG_ERR_CLI_BAD_FLAG = (flag: string, value: string, expected: string): CliError =>
  new CliError('FG_ERR_CLI_BAD_FLAG', `--${flag} ${JSON.stringify(value)}: expected ${expected}`, 2)
