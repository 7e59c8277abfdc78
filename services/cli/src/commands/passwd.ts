import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { hashPassword, parsePasswordHash } from '@flowgate/ingress/password-hash'
import { CliError } from '../errors.js'

export const passwdUsage = `flowgate passwd USERNAME [--password-stdin]
  Prints \`USERNAME: <scrypt hash>\` for a UsernamePassword BrokerAuthentication. Asks twice for the password,
  without echo, or reads it from stdin (one trailing newline dropped). Collect the lines in a file for
  \`flowgate create secret passwords\`: \`flowgate passwd sensor-1 >> passwords.txt\`.`

// The user name becomes a key of the Secret, so it follows the Secret key rule (core.ts's KEY_PATTERN).
const USERNAME = /^[-._a-zA-Z0-9]+$/

export interface PasswdIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  stdout: { write: (text: string) => unknown }
  stderr: { write: (text: string) => unknown }
}

export async function passwd (argv: string[], io: PasswdIo = process): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { 'password-stdin': { type: 'boolean' } }, allowPositionals: true, strict: true })
  const [username, ...extra] = positionals
  if (username === undefined || extra.length > 0) throw new CliError('FG_ERR_CLI_USAGE', `passwd takes one user name\n${passwdUsage}`, 2)
  if (!USERNAME.test(username)) throw badUsername(username)
  let password: Buffer
  if (values['password-stdin'] === true) {
    password = await readPasswordStdin(io.stdin)
  } else if (io.stdin.isTTY === true) {
    password = await promptTwice(username, io)
  } else {
    throw new CliError('FG_ERR_CLI_USAGE', 'stdin is not a terminal to ask on: pipe the password in with --password-stdin', 2)
  }
  io.stdout.write(`${username}: ${await hashPassword(password)}\n`)
  return 0
}

const badUsername = (username: string): CliError =>
  new CliError('FG_ERR_CLI_BAD_USERNAME', `user name ${JSON.stringify(username)}: only letters, digits, '-', '.', '_' (it becomes a key of the Secret)`, 2)

const emptyPassword = (): CliError => new CliError('FG_ERR_CLI_EMPTY_PASSWORD', 'empty password refused', 1)

/** All of stdin, less one trailing newline (`echo pw |`, a file ending in a newline), as `docker login` reads it. */
async function readPasswordStdin (stdin: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer))
  let password = Buffer.concat(chunks)
  if (password.at(-1) === 0x0a) password = password.subarray(0, -1)
  if (password.at(-1) === 0x0d) password = password.subarray(0, -1)
  if (password.length === 0) throw emptyPassword()
  return password
}

/**
 * Two prompts on stderr (stdout stays the hash line alone, ready for `>> passwords.txt`). readline puts the
 * terminal in raw mode, so the terminal does not echo; what readline itself would echo goes to a muted stream.
 */
async function promptTwice (username: string, io: PasswdIo): Promise<Buffer> {
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() })
  const rl = createInterface({ input: io.stdin, output: muted, terminal: true })
  const lines = rl[Symbol.asyncIterator]()
  const ask = async (prompt: string): Promise<string> => {
    io.stderr.write(prompt)
    const next = await lines.next()
    io.stderr.write('\n')
    // Ctrl-C or Ctrl-D close the prompt: nothing to hash, and nothing to print.
    if (next.done === true) throw new CliError('FG_ERR_CLI_NO_PASSWORD', 'no password entered', 1)
    return next.value
  }
  try {
    const first = await ask(`Password for ${username}: `)
    if (first === '') throw emptyPassword()
    const second = await ask('The same password again: ')
    if (first !== second) throw new CliError('FG_ERR_CLI_PASSWORD_MISMATCH', 'the two passwords differ; nothing printed', 1)
    return Buffer.from(first, 'utf8')
  } finally {
    rl.close()
  }
}

export interface PasswordFileError { line?: number, message: string }

/**
 * A file of `user: hash` lines (what `flowgate passwd` prints; `#` comments and blank lines skipped) → user → hash.
 * Only hashes pass: a plain password in a Secret would never let anyone log in, and is better refused here.
 * Errors name the line and the user, never the value.
 */
export function parsePasswordFile (text: string): { users: Map<string, string>, errors: PasswordFileError[] } {
  const users = new Map<string, string>()
  const errors: PasswordFileError[] = []
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const problem = (message: string): void => { errors.push({ line: i + 1, message }) }
    const colon = line.indexOf(':')
    if (colon <= 0) { problem('expected USER: HASH (the output of `flowgate passwd USER`)'); continue }
    const user = line.slice(0, colon).trim()
    const hash = line.slice(colon + 1).trim()
    if (!USERNAME.test(user)) problem(badUsername(user).message)
    else if (users.has(user)) problem(`user ${user} appears more than once`)
    else if (parsePasswordHash(hash) === undefined) problem(`the value for ${user} is not a password hash; make one with \`flowgate passwd ${user}\``)
    else users.set(user, hash)
  }
  if (users.size === 0 && errors.length === 0) errors.push({ message: 'no users (expected USER: HASH lines from `flowgate passwd`)' })
  return { users, errors }
}
