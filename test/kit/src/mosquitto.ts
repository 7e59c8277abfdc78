import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { eventually } from './eventually.js'
import { freePort } from './solo-broker.js'

export interface Mosquitto {
  port: number
  dir: string
  start: () => Promise<void>
  /** SIGTERM: mosquitto writes its persistence file (sessions, queued messages) on the way out. */
  stop: () => Promise<void>
}

/**
 * Debian's mosquitto on a free loopback port with on-disk persistence (sessions survive a stop), started; stopped and
 * its directory removed when the test ends. With `user`, only that user (a password file); else anonymous.
 */
export async function startMosquitto (t: Test, opts: { user?: { username: string, password: string }, extra?: string[] } = {}): Promise<Mosquitto> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-mosquitto-'))
  const auth = opts.user === undefined ? ['allow_anonymous true'] : ['allow_anonymous false', `password_file ${join(dir, 'passwd')}`]
  if (opts.user !== undefined) execFileSync('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), opts.user.username, opts.user.password])
  writeFileSync(join(dir, 'mosquitto.conf'), [
    // As root mosquitto would switch to its own user, which cannot read this private directory: stay who we are.
    `user ${userInfo().username}`,
    `listener ${port} 127.0.0.1`, ...auth,
    'persistence true', `persistence_location ${dir}/`, 'max_queued_messages 1000000', ...(opts.extra ?? []), ''
  ].join('\n'))
  let child: ChildProcess | undefined
  const m: Mosquitto = {
    port,
    dir,
    async start () {
      child = spawn('/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' })
      await eventually(async () => await new Promise<true | undefined>((resolve) => {
        const s = createServer()
        // Bound means mosquitto is not listening yet.
        s.once('error', () => resolve(true))
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(undefined)))
      }), 10_000, 'mosquitto listening')
    },
    async stop () {
      const c = child
      child = undefined
      if (!c || c.exitCode !== null) return
      await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGTERM') })
    }
  }
  await m.start()
  t.teardown(async () => { await m.stop(); rmSync(dir, { recursive: true, force: true }) })
  return m
}
