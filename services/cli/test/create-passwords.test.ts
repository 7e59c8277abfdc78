import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashPassword } from '@flowgate/ingress'
import { loadSecretKey, openSecret } from '@flowgate/store'
import { cliRig } from './helpers.js'

// Cheap hashes: these tests are about the file and the Secret, not about scrypt's cost.
const hash = (password: string): Promise<string> => hashPassword(password, { N: 1024 })

t.test('create secret passwords turns `user: hash` lines into an Opaque Secret with one key per user', async (t) => {
  const { flowgate, dir, admin } = await cliRig(t)
  const alice = await hash('alice-pw')
  const bob = await hash('bob-pw')
  // As `flowgate passwd alice >> passwords.txt` writes them, with a comment, a blank line and `user:hash` unspaced.
  await writeFile(join(dir, 'passwords.txt'), `# devices of hall 17\nalice: ${alice}\n\nsensor-1.hall_17:${bob}\r\n`)
  const run = await flowgate(['create', 'secret', 'passwords', 'device-passwords', '--from-file', 'passwords.txt', '-n', 'azure-iot-operations'])
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, 'secret/device-passwords created\n')
  const stored = await admin.store.get({ kind: 'Secret', namespace: 'azure-iot-operations', name: 'device-passwords' })
  if (stored === undefined) throw new Error('not stored')
  const opened = openSecret(stored, await loadSecretKey({ dataDir: join(dir, 'data'), env: {} }))
  t.equal(opened.type, 'Opaque')
  const data = Object.fromEntries(Object.entries(opened.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
  t.same(data, { alice, 'sensor-1.hall_17': bob })
})

t.test('create secret passwords refuses plain passwords, doubled users, bad lines and an empty file, naming the line', async (t) => {
  const { flowgate, dir } = await cliRig(t)
  const alice = await hash('alice-pw')
  const cases: Array<[string, string, RegExp]> = [
    ['plain.txt', `alice: ${alice}\nbob: hunter2\n`, /plain\.txt:2: .*bob.*not a password hash.*flowgate passwd.*FG_ERR_CLI_PASSWORD_FILE/],
    ['twice.txt', `alice: ${alice}\nalice: ${alice}\n`, /twice\.txt:2: .*alice.*more than once.*FG_ERR_CLI_PASSWORD_FILE/],
    ['nocolon.txt', `alice ${alice}\n`, /nocolon\.txt:1: expected USER: HASH.*FG_ERR_CLI_PASSWORD_FILE/],
    ['badname.txt', `al ice: ${alice}\n`, /badname\.txt:1: .*"al ice".*FG_ERR_CLI_PASSWORD_FILE/],
    ['empty.txt', '# nobody yet\n\n', /empty\.txt: no users.*FG_ERR_CLI_PASSWORD_FILE/]
  ]
  for (const [file, text, error] of cases) {
    await writeFile(join(dir, file), text)
    const run = await flowgate(['create', 'secret', 'passwords', 'p', '--from-file', file])
    t.equal(run.code, 1, file)
    t.match(run.stderr, error, file)
    t.notMatch(run.stderr, 'hunter2', `${file}: a plain password is not echoed back`)
  }
  const noFile = await flowgate(['create', 'secret', 'passwords', 'p'])
  t.equal(noFile.code, 2)
  t.match(noFile.stderr, /--from-file/)
  const literal = await flowgate(['create', 'secret', 'passwords', 'p', '--from-file', 'plain.txt', '--from-literal=a=b'])
  t.equal(literal.code, 2)
  t.equal((await flowgate(['get', 'secrets', '-n', 'default'])).stdout, '', 'nothing was created')
})
