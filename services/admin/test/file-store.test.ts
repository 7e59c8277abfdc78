import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startAdmin } from '../src/start.js'
import { dumpDir } from './helpers.js'

// Against the real file store and cipher of @flowgate/store, as `flowgate start` runs them.

t.test('with the file store, secret values never reach the disk in plaintext and survive a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowgate-admin-file-'))
  t.teardown(async () => await rm(dataDir, { recursive: true, force: true }))
  const env = { FLOWGATE_STORE: 'file' }
  const start = async (): Promise<Awaited<ReturnType<typeof startAdmin>>> =>
    await startAdmin({ host: '127.0.0.1', port: 0, dataDir, env, logger: pino({ level: 'silent' }) })
  const call = async (admin: { url: string, token: string }, method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(admin.url + path, { method, headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, body: await res.json() }
  }
  const first = await start()
  const put = await call(first, 'PUT', '/api/v1/namespaces/default/secrets/s', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'PLAINTEXT-ON-DISK?' } })
  t.equal(put.status, 201)
  await first.close()
  const disk = await dumpDir(dataDir)
  t.notMatch(disk, 'PLAINTEXT-ON-DISK?')
  t.notMatch(disk, Buffer.from('PLAINTEXT-ON-DISK?').toString('base64'))
  const second = await start()
  t.teardown(async () => await second.close())
  t.equal(second.token, first.token, 'the generated token is kept')
  t.same((await call(second, 'GET', '/api/v1/namespaces/default/secrets/s')).body.data, { password: '' })
  t.equal((await call(second, 'GET', '/api/v1/dataflowprofiles')).body.items.length, 2, 'built-ins seeded once')
})
