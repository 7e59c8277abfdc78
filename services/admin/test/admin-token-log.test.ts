import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { openAdminState, type AdminStateOptions } from '../src/state.js'

// Structured logs go to shippers and dashboards: the generated admin token may reach the person at the terminal,
// never a log line.

interface Captured { logs: string[], terminal: string[] }

async function firstStart (t: Test, terminal: { isTTY?: boolean } | undefined): Promise<Captured & { token: string, dataDir: string, again: () => Promise<Captured & { token: string }> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowgate-admin-token-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const open = async (): Promise<Captured & { token: string }> => {
    const captured: Captured = { logs: [], terminal: [] }
    const logger = pino({ level: 'trace' }, { write: (line: string) => { captured.logs.push(line) } })
    const options: AdminStateOptions = { dataDir, env: { FLOWGATE_STORE: 'file' }, logger }
    if (terminal !== undefined) options.terminal = { ...terminal, write: (text: string) => { captured.terminal.push(text); return true } }
    const state = await openAdminState(options)
    await state.close()
    return { ...captured, token: state.token }
  }
  const first = await open()
  return { ...first, dataDir, again: open }
}

t.test('a generated admin token never reaches the structured log; the log names its file', async (t) => {
  const { logs, token, dataDir } = await firstStart(t, undefined)
  t.ok(token.length >= 32)
  t.equal((await readFile(join(dataDir, 'admin-token'), 'utf8')).trim(), token)
  t.ok(logs.length > 0, 'something was logged')
  for (const line of logs) t.notMatch(line, token, 'no log line holds the token')
  t.ok(logs.some((line) => line.includes(join(dataDir, 'admin-token'))), 'a log line says where the token is')
})

t.test('on a terminal the token is printed once to it, outside the log', async (t) => {
  const { logs, terminal, token, again } = await firstStart(t, { isTTY: true })
  t.equal(terminal.join('').split(token).length - 1, 1, 'printed once')
  for (const line of logs) t.notMatch(line, token)
  const restart = await again()
  t.equal(restart.token, token)
  t.same(restart.terminal, [], 'a later start does not print it again')
  for (const line of restart.logs) t.notMatch(line, token)
})

t.test('without a terminal (a service, a container, a pipe) the token is printed nowhere', async (t) => {
  const { logs, terminal, token } = await firstStart(t, { isTTY: false })
  t.same(terminal, [])
  for (const line of logs) t.notMatch(line, token)
})
