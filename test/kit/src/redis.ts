import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { freePort } from './solo-broker.js'

const REDIS_SERVER = '/usr/bin/redis-server'

/** Answers PING with +PONG: the server is up (a raw RESP exchange, no client library needed for that). */
async function pongs (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (b) => done(b.toString().startsWith('+PONG')))
    socket.setTimeout(1000, () => done(false))
  })
}

/**
 * Debian's redis-server on a free loopback port, no persistence to disk; stopped at the test's end (`t`), or by
 * `stop` (a bench).
 */
export async function startRedis (t?: Pick<Test, 'teardown'>): Promise<{ url: string, stop: () => Promise<void> }> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'fg-redis-'))
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) await new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGKILL') })
    rmSync(dir, { recursive: true, force: true })
  }
  t?.teardown(stop)
  const until = Date.now() + 10_000
  while (!(await pongs(port))) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`redis-server did not start on 127.0.0.1:${port} (scripts/deps.sh installs it)`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { url: `redis://127.0.0.1:${port}`, stop }
}
