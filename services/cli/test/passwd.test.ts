import t from 'tap'
import { PassThrough } from 'node:stream'
import { parsePasswordHash, verifyPassword } from '@flowgate/ingress'
import { passwd } from '../src/commands/passwd.js'
import { cliRig } from './helpers.js'

/** Whether `line` is `USERNAME: <hash>` with a hash of `password`. */
async function matches (password: string, line: string, username: string): Promise<boolean> {
  if (!line.startsWith(`${username}: scrypt$`)) return false
  const hash = parsePasswordHash(line.slice(username.length + 2))
  if (hash === undefined) return false
  return await verifyPassword(Buffer.from(password), hash)
}

t.test('passwd --password-stdin prints `USERNAME: <hash>` for the password on stdin, without its newline', async (t) => {
  const { flowgate } = await cliRig(t)
  const run = await flowgate(['passwd', 'sensor-1', '--password-stdin'], { stdin: 'corr3ct horse\n' })
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout.split('\n').length, 2, 'one line')
  t.ok(await matches('corr3ct horse', run.stdout.trimEnd(), 'sensor-1'))
  t.notOk(await matches('corr3ct horse\n', run.stdout.trimEnd(), 'sensor-1'))
  t.notMatch(run.stdout + run.stderr, 'corr3ct', 'the password itself is never printed')
})

t.test('passwd refuses an empty password, a missing or unusable user name, and a pipe without --password-stdin', async (t) => {
  const { flowgate } = await cliRig(t)
  for (const stdin of ['', '\n', '\r\n']) {
    const empty = await flowgate(['passwd', 'alice', '--password-stdin'], { stdin })
    t.equal(empty.code, 1, JSON.stringify(stdin))
    t.match(empty.stderr, /empty.*FG_ERR_CLI_EMPTY_PASSWORD/)
    t.equal(empty.stdout, '')
  }
  const none = await flowgate(['passwd', '--password-stdin'], { stdin: 'x\n' })
  t.equal(none.code, 2)
  t.match(none.stderr, /flowgate passwd USERNAME/)
  for (const name of ['al ice', 'alice:admin', 'ä']) {
    const bad = await flowgate(['passwd', name, '--password-stdin'], { stdin: 'x\n' })
    t.equal(bad.code, 2, name)
    t.match(bad.stderr, /FG_ERR_CLI_BAD_USERNAME/, name)
  }
  const piped = await flowgate(['passwd', 'alice'], { stdin: 'x\n' })
  t.equal(piped.code, 2)
  t.match(piped.stderr, /--password-stdin/)
  t.notMatch(piped.stderr, /\n\s+at /, 'no stack trace')
})

/** A stand-in for a terminal: readline reads keys from it as it would from a TTY. */
function fakeTerminal (typed: string[]): { stdin: PassThrough & { isTTY: boolean, setRawMode: (raw: boolean) => void, raw: boolean[] }, stdout: { write: (s: string) => boolean, text: string }, stderr: { write: (s: string) => boolean, text: string } } {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, raw: [] as boolean[], setRawMode (raw: boolean) { stdin.raw.push(raw) } })
  const sink = () => { const s = { text: '', write: (x: string) => { s.text += x; return true } }; return s }
  const stdout = sink()
  const stderr = sink()
  // Each line as it would arrive: keys typed after the prompt, ended by Enter.
  setImmediate(() => { for (const line of typed) stdin.write(line + '\r') })
  return { stdin, stdout, stderr }
}

t.test('on a terminal passwd prompts twice without echo and prints the hash', async (t) => {
  const io = fakeTerminal(['s3cret-pw', 's3cret-pw'])
  t.equal(await passwd(['alice'], io), 0)
  t.ok(await matches('s3cret-pw', io.stdout.text.trimEnd(), 'alice'))
  t.match(io.stderr.text, /Password for alice:.*\n.*again/s, 'both prompts on stderr, stdout keeps the line alone')
  t.notMatch(io.stdout.text + io.stderr.text, 's3cret', 'no echo')
  t.same(io.stdin.raw.slice(0, 1), [true], 'the terminal was put in raw mode (no echo by the terminal itself)')
})

t.test('on a terminal passwd refuses a mismatch and an empty password', async (t) => {
  const mismatch = fakeTerminal(['one', 'two'])
  await t.rejects(passwd(['alice'], mismatch), { code: 'FG_ERR_CLI_PASSWORD_MISMATCH' })
  t.equal(mismatch.stdout.text, '')
  const empty = fakeTerminal([''])
  await t.rejects(passwd(['alice'], empty), { code: 'FG_ERR_CLI_EMPTY_PASSWORD' })
  const ended = fakeTerminal([])
  setImmediate(() => ended.stdin.end())
  await t.rejects(passwd(['alice'], ended), { code: 'FG_ERR_CLI_NO_PASSWORD' })
})

t.test('help lists passwd and create secret passwords', async (t) => {
  const { flowgate } = await cliRig(t)
  const help = await flowgate(['help'])
  t.match(help.stdout, /flowgate passwd USERNAME \[--password-stdin\]/)
  t.match(help.stdout, /flowgate create secret passwords NAME --from-file FILE/)
})
