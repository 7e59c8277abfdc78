import t from 'tap'
import { withoutRunnerSeparator } from '../src/main.js'
import { cliRig } from './helpers.js'

// `pnpm start -- --mqtt-port 1883` runs `flowgate.mjs start -- --mqtt-port 1883`, and `pnpm flowgate -- get x`
// runs `flowgate.mjs -- get x`: the `--` is the package runner's, not the user's.
t.test('a runner\'s `--` first or right after the command is dropped; elsewhere it stays', async (t) => {
  t.same(withoutRunnerSeparator(['start', '--', '--mqtt-port', '1883', '--http-port', '8080']), ['start', '--mqtt-port', '1883', '--http-port', '8080'])
  t.same(withoutRunnerSeparator(['--', 'get', 'secrets']), ['get', 'secrets'])
  t.same(withoutRunnerSeparator(['--', 'start', '--', '--mqtt-port', '1']), ['start', '--mqtt-port', '1'])
  t.same(withoutRunnerSeparator(['start', '--']), ['start'])
  t.same(withoutRunnerSeparator(['get', 'secrets', '--', '-n']), ['get', 'secrets', '--', '-n'], 'a later `--` still ends the options')
  t.same(withoutRunnerSeparator(['start', '--', '--', '--x']), ['start', '--', '--x'], 'only one `--` is the runner\'s')
  t.same(withoutRunnerSeparator([]), [])
})

t.test('the flowgate command accepts the argv `pnpm start -- …` and `pnpm flowgate -- …` pass', async (t) => {
  const { flowgate } = await cliRig(t)
  // A flag the server command does not know fails before anything starts, and names the flag: the `--` was
  // dropped. `admin` rather than `start`: the same parsing, without loading the whole gateway.
  const server = await flowgate(['admin', '--', '--no-such-flag'])
  t.equal(server.code, 2)
  t.match(server.stderr, /Unknown option '--no-such-flag'/)
  t.notMatch(server.stderr, /Unexpected argument/)
  for (const args of [['--', 'get', 'secrets'], ['get', '--', 'secrets']]) {
    const get = await flowgate(args)
    t.equal(get.code, 0, `${args.join(' ')}: ${get.stderr}`)
    t.match(get.stderr + get.stdout, /secrets|NAME/)
  }
})

t.test('`flowgate <command> --help` prints that command\'s usage and exits 0, flags included', async (t) => {
  const { flowgate } = await cliRig(t)
  const help = await flowgate(['admin', '--help'])
  t.equal(help.code, 0, help.stderr)
  t.match(help.stdout, /^usage: flowgate admin /)
  const start = await flowgate(['start', '-h'])
  t.match(start.stdout, /--buffer-bytes 67108864/, 'start lists the dataflow buffer flags')
})
