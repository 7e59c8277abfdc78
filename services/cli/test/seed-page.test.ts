import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeTestPki } from '@flowgate/testkit'
import { cliRig } from './helpers.js'

// The specification itself, read where it lives (../shared/seed beside the repository), not a copy: every YAML block
// goes through `flowgate apply`, and every `kubectl` command runs with `flowgate` in its place.
const page = readFileSync(new URL('../../../../shared/seed/howto-configure-kafka-endpoint.md', import.meta.url), 'utf8')
const yamlBlocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!)
const commands = [...page.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ' ').trim())

/** Splits a shell command line into words: single and double quotes, no expansion (the page's commands need no more). */
function words (line: string): string[] {
  const out: string[] = []
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    const last = m[0]
    // `--from-literal=username='$ConnectionString'`: a quoted part glued to a word.
    const glued = /^(\S*?)'([^']*)'$/.exec(last)
    out.push(m[1] ?? m[2] ?? (glued ? glued[1]! + glued[2]! : m[3]!))
  }
  return out
}

t.test('the seed page has 19 YAML examples and 4 kubectl commands', async (t) => {
  t.equal(yamlBlocks.length, 19)
  t.equal(commands.length, 4)
})

t.test('every YAML block of the page applies as written, or is refused naming exactly what to fill in', async (t) => {
  const { flowgate, dir } = await cliRig(t)
  for (const [i, block] of yamlBlocks.entries()) {
    const file = join(dir, `seed-block-${String(i).padStart(2, '0')}.yaml`)
    writeFileSync(file, block)
    const run = await flowgate(['apply', '-f', file])
    const placeholders = [...new Set(block.match(/<[A-Za-z][A-Za-z0-9_-]*>/g) ?? [])]
    const whole = /^\s*apiVersion:/m.test(block)
    if (run.code === 0) {
      t.same(placeholders, [], `block ${i} applied: it had nothing to fill in`)
      t.ok(whole, `block ${i} applied: it is a whole resource`)
      continue
    }
    t.equal(run.code, 1, `block ${i}: refused with exit code 1`)
    t.match(run.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `, 'm'), `block ${i}: the message names the file and line`)
    if (!whole) t.match(run.stderr, /not a whole resource: put it inside one with apiVersion .*kind .*metadata\.name/, `block ${i}: a fragment, told where it belongs`)
    else if (placeholders.length > 0) for (const p of placeholders) t.match(run.stderr, p, `block ${i}: names ${p}`)
    else t.match(run.stderr, /dataflowendpoint\/mq/, `block ${i}: the Dataflow names the endpoint it still needs`)
    t.notMatch(run.stderr, /\n\s+at /, `block ${i}: no stack trace`)
  }
})

t.test("the page's kubectl commands work with flowgate in kubectl's place", async (t) => {
  const { flowgate, dir } = await cliRig(t)
  // The files the page's commands name: a certificate and key at path/to/…, a CA bundle root_ca.crt.
  const pki = makeTestPki('device-1')
  mkdirSync(join(dir, 'path/to/cert'), { recursive: true })
  mkdirSync(join(dir, 'path/to/key'), { recursive: true })
  writeFileSync(join(dir, 'path/to/cert/file'), pki.clientCert)
  writeFileSync(join(dir, 'path/to/key/file'), pki.clientKey)
  writeFileSync(join(dir, 'root_ca.crt'), pki.ca)
  for (const command of commands) {
    const argv = words(command)
    t.equal(argv[0], 'kubectl')
    const run = await flowgate(argv.slice(1))
    t.equal(run.code, 0, `flowgate ${argv.slice(1, 4).join(' ')} …: ${run.stderr.trim()}`)
  }
  const list = await flowgate(['get', 'secrets', '-n', 'azure-iot-operations', '-o', 'json'])
  const names = (JSON.parse(list.stdout).items as Array<{ metadata: { name: string } }>).map((s) => s.metadata.name).sort()
  t.same(names, ['cs-secret', 'my-tls-secret', 'sasl-secret'])
  const cs = JSON.parse((await flowgate(['get', 'secret', 'cs-secret', '-n', 'azure-iot-operations', '-o', 'json'])).stdout)
  t.same(Object.keys(cs.data).sort(), ['password', 'username'], 'keys shown, values never')
  t.same(Object.values(cs.data), ['', ''])
  const tls = JSON.parse((await flowgate(['get', 'secret', 'my-tls-secret', '-n', 'azure-iot-operations', '-o', 'json'])).stdout)
  t.equal(tls.type, 'kubernetes.io/tls')
  const ca = JSON.parse((await flowgate(['get', 'configmap', 'client-ca-configmap', '-n', 'azure-iot-operations', '-o', 'json'])).stdout)
  t.match(ca.data['root_ca.crt'], /BEGIN CERTIFICATE/)
})
