import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openFileStore } from '../src/file-store.js'
import { loadSecretKey, sealSecret, openSecret } from '../src/secret-cipher.js'
import type { Store, StoredResource } from '../src/types.js'
import { endpoint, take } from './conformance.js'

const child = fileURLToPath(new URL('./fixtures/store-child.ts', import.meta.url))

function dataDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-store-'))
  t.teardown(async () => await rm(dir, { recursive: true, force: true }))
  return dir
}

async function opened (t: Test, dir: string, options?: Parameters<typeof openFileStore>[1]): Promise<Store> {
  const store = await openFileStore(dir, options)
  t.teardown(() => store.close())
  return store
}

const key = (name: string): { kind: string, namespace: string, name: string } => ({ kind: 'DataflowEndpoint', namespace: 'default', name })
const storeFiles = (dir: string): string[] => readdirSync(join(dir, 'store')).sort()

function startChild (mode: 'write' | 'hold' | 'fill', dir: string, fileSizeLimitKiB?: number): { proc: ChildProcess, lines: string[], exited: Promise<void> } {
  const argv = [process.execPath, '--import', 'tsx', child, mode, dir]
  // Under a file size limit (ulimit -f), a write past it fails with EFBIG: a disk that is full, for this process.
  const proc = fileSizeLimitKiB === undefined
    ? spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn('bash', ['-c', `ulimit -f ${fileSizeLimitKiB}; exec "$@"`, 'bash', ...argv], {
      stdio: ['ignore', 'pipe', 'inherit'],
      // Without tap's loaders (NODE_OPTIONS): they write files of their own, which the limit would break.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS'))
    })
  const lines: string[] = []
  let rest = ''
  proc.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n')
    rest = parts.pop()!
    lines.push(...parts)
  })
  // 'close': exited and its stdout read to the end, so the last line is the last batch it acknowledged.
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()))
  return { proc, lines, exited }
}

async function until (check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

t.test('a restart keeps resources, versions, uid, creationTimestamp, status and the watch log', async (t) => {
  const dir = dataDir(t)
  const first = await openFileStore(dir)
  const start = (await first.list()).resourceVersion
  const a = await first.put(endpoint('a'))
  await first.put(endpoint('b'))
  await first.delete(key('b'))
  await first.setStatus(key('a'), { phase: 'Running' })
  const before = await first.list()
  await first.close()

  const again = await opened(t, dir)
  const after = await again.list()
  t.equal(after.resourceVersion, before.resourceVersion)
  t.same(after.items, before.items)
  t.equal(after.items[0]?.metadata.uid, a.resource.metadata.uid)
  t.same(after.items[0]?.status, { phase: 'Running' })
  const replay = await take(again.watch({ fromResourceVersion: start }), 3)
  t.same(replay.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED a', 'ADDED b', 'DELETED b'])
  const next = await again.put(endpoint('c'))
  t.ok(BigInt(next.resource.metadata.resourceVersion!) > BigInt(before.resourceVersion), 'the counter goes on from where it was')
})

t.test('the journal rolls into snapshots; old segments go, the kept watch log stays bounded and survives a restart', async (t) => {
  const dir = dataDir(t)
  const options = { segmentBytes: 4096, changeLogLimit: 30 }
  const first = await openFileStore(dir, options)
  for (let i = 0; i < 300; i++) {
    await first.put(endpoint(`e${i % 10}`, `h${i}:1`))
    if (i % 5 === 0) await first.setStatus(key(`e${i % 10}`), { i })
  }
  const before = await first.list()
  await first.close()
  const files = storeFiles(dir)
  t.equal(files.filter((f) => f.startsWith('snapshot-')).length, 1, 'one snapshot kept')
  t.ok(files.filter((f) => f.startsWith('wal-')).length < 20, `old segments removed (${files.length} files)`)
  const again = await opened(t, dir, options)
  t.same((await again.list()).items, before.items, 'snapshot + journal give back the same state, status included')
  const recent = String(BigInt(before.resourceVersion) - 30n)
  t.equal((await take(again.watch({ fromResourceVersion: recent }), 30)).length, 30, 'the newest changeLogLimit events replay after a restart')
  await t.rejects(again.watch({ fromResourceVersion: '1' })[Symbol.asyncIterator]().next(), { code: 'FG_ERR_STORE_WATCH_EXPIRED' })
})

t.test('a write cut short by a crash (a torn last journal record) is dropped on open; the store goes on', async (t) => {
  const dir = dataDir(t)
  const first = await openFileStore(dir)
  await first.put(endpoint('kept'))
  const version = (await first.list()).resourceVersion
  await first.close()
  const wal = storeFiles(dir).filter((f) => f.startsWith('wal-')).at(-1)!
  // Half a record, as when the process dies inside write(2): no newline, a checksum that cannot match.
  appendFileSync(join(dir, 'store', wal), '0badc0de {"t":"w","ev":[{"type":"ADDED","object":{"apiVersion":"x","kind":"DataflowEndpoint","metada')
  const second = await openFileStore(dir)
  t.equal((await second.list()).resourceVersion, version)
  t.same((await second.list()).items.map((r) => r.metadata.name), ['kept'])
  await second.put(endpoint('after'))
  await second.close()
  const third = await opened(t, dir)
  t.same((await third.list()).items.map((r) => r.metadata.name), ['after', 'kept'], 'records after the repaired tail read back')
})

t.test('damage inside an older journal segment is reported (FG_ERR_STORE_CORRUPT), not silently skipped', async (t) => {
  const dir = dataDir(t)
  const first = await openFileStore(dir, { segmentBytes: 1024 })
  for (let i = 0; i < 30; i++) await first.put(endpoint(`e${i}`))
  await first.close()
  const wals = storeFiles(dir).filter((f) => f.startsWith('wal-'))
  t.ok(wals.length >= 2, 'several segments')
  const path = join(dir, 'store', wals[0]!)
  const bytes = readFileSync(path)
  bytes[20] = bytes[20] === 0x41 ? 0x42 : 0x41
  writeFileSync(path, bytes)
  await t.rejects(openFileStore(dir, { segmentBytes: 1024 }), { code: 'FG_ERR_STORE_CORRUPT' })
})

t.test('a snapshot left half-written (its temp file) is ignored and removed', async (t) => {
  const dir = dataDir(t)
  const first = await openFileStore(dir)
  await first.put(endpoint('a'))
  await first.close()
  writeFileSync(join(dir, 'store', 'snapshot-0000000009.json.123.abc.tmp'), '{"format":1,"resourceVersion":"99","resou')
  const again = await opened(t, dir)
  t.same((await again.list()).items.map((r) => r.metadata.name), ['a'])
  t.notOk(storeFiles(dir).some((f) => f.endsWith('.tmp')))
})

t.test('two stores opened on one directory in one process share it: same data, each other\'s watch events', async (t) => {
  const dir = dataDir(t)
  const a = await openFileStore(dir)
  const b = await opened(t, dir)
  const start = (await b.list()).resourceVersion
  const seen = take(b.watch({ fromResourceVersion: start }), 2)
  await Promise.all([a.put(endpoint('from-a')), b.put(endpoint('from-b'))])
  t.same((await seen).map((e) => e.object.metadata.name).sort(), ['from-a', 'from-b'])
  t.same((await a.list()).items, (await b.list()).items)
  await a.close()
  await b.put(endpoint('after-a-closed'))
  t.equal((await b.list()).items.length, 3, 'closing one leaves the other working')
})

t.test('a directory held by another live process is refused (FG_ERR_STORE_LOCKED); once it is killed, it opens', async (t) => {
  const dir = dataDir(t)
  const holder = startChild('hold', dir)
  t.teardown(() => { holder.proc.kill('SIGKILL') })
  await until(() => holder.lines.includes('ready'), 'the holder to open the store')
  await t.rejects(openFileStore(dir), { code: 'FG_ERR_STORE_LOCKED' })
  holder.proc.kill('SIGKILL')
  await holder.exited
  const store = await opened(t, dir)
  t.equal((await store.put(endpoint('mine'))).created, true, 'the stale lock of a dead process is taken over')
})

t.test('SIGKILL in the middle of writing leaves every record whole and every acknowledged batch in place', async (t) => {
  const dir = dataDir(t)
  for (const round of [1, 2, 3]) {
    const writer = startChild('write', dir)
    // Let it run past a few journal rolls (64 KiB segments), then kill it without warning, mid-write.
    const target = 150 * round
    await until(() => writer.lines.length > 0 && Number(writer.lines.at(-1)) >= target, `batch ${target}`)
    writer.proc.kill('SIGKILL')
    await writer.exited
    const acknowledged = Number(writer.lines.at(-1))
    const store = await openFileStore(dir, { segmentBytes: 64 * 1024 })
    const { items } = await store.list({ kind: 'ConfigMap' })
    const n = (r: StoredResource): number => Number(r.data!.n)
    t.equal(items.length, 40, `round ${round}: every resource parses`)
    const newest = Math.max(...items.map(n))
    // The batch in flight when it died may or may not have reached the disk; nothing acknowledged may be missing.
    t.ok(newest === acknowledged || newest === acknowledged + 1, `round ${round}: the last acknowledged batch (${acknowledged}) is there (newest ${newest})`)
    for (let i = 0; i < 20; i++) {
      const left = items.find((r) => r.metadata.name === `left-${i}`)!
      const right = items.find((r) => r.metadata.name === `right-${i}`)!
      if (n(left) !== n(right)) t.fail(`round ${round}: batch torn apart: left-${i}=${n(left)} right-${i}=${n(right)}`)
    }
    await store.close()
  }
})

t.test('secret values sealed before the store never reach its files in plaintext, and open again after a restart', async (t) => {
  const dir = dataDir(t)
  const key = await loadSecretKey({ dataDir: dir, env: {} })
  const plaintext = 'Endpoint=sb://very-secret-value'
  const first = await openFileStore(dir)
  const start = (await first.list()).resourceVersion
  await first.put(sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cs', namespace: 'default' }, type: 'Opaque', stringData: { password: plaintext } } as never, key))
  await first.put(sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cs', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from(plaintext + '2').toString('base64') } }, key))
  await first.close()
  let disk = ''
  for (const f of storeFiles(dir)) disk += readFileSync(join(dir, 'store', f), 'latin1')
  t.match(disk, 'sealed:A256GCM:', 'the sealed form is on disk')
  for (const v of [plaintext, plaintext + '2']) {
    t.notMatch(disk, v)
    t.notMatch(disk, Buffer.from(v).toString('base64'))
  }
  const again = await opened(t, dir)
  const stored = await again.get({ kind: 'Secret', namespace: 'default', name: 'cs' })
  t.equal(Buffer.from(openSecret(stored!, await loadSecretKey({ dataDir: dir, env: {} })).data!.password!, 'base64').toString(), plaintext + '2')
  t.equal((await take(again.watch({ fromResourceVersion: start }), 2)).length, 2)
  t.equal(statSync(join(dir, 'store')).mode & 0o777, 0o700, 'the store directory is private')
})

t.test('the lock tells a live holder from a recycled pid by the process start time', async (t) => {
  const dir = dataDir(t)
  const { mkdirSync } = await import('node:fs')
  mkdirSync(join(dir, 'store'), { recursive: true })
  // pid 1 is always alive: with its real start time it holds the lock, with another one it is a recycled pid.
  const stat = readFileSync('/proc/1/stat', 'utf8')
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  writeFileSync(join(dir, 'store', 'lock'), JSON.stringify({ pid: 1, start, host: 'elsewhere' }))
  await t.rejects(openFileStore(dir), { code: 'FG_ERR_STORE_LOCKED' })
  writeFileSync(join(dir, 'store', 'lock'), JSON.stringify({ pid: 1, start: '1', host: 'elsewhere' }))
  const store = await opened(t, dir)
  t.equal((await store.put(endpoint('mine'))).created, true)
})

t.test('a journal write that fails (disk full) is refused with FG_ERR_STORE_IO and cut back; the store goes on and loses nothing acknowledged', async (t) => {
  const dir = dataDir(t)
  const filler = startChild('fill', dir, 512)
  await filler.exited
  t.same(filler.lines.filter((l) => !/^\d+$/.test(l)), ['error FG_ERR_STORE_IO', 'small ok'], 'the write that did not fit is refused; a small one after it is not')
  const acknowledged = filler.lines.filter((l) => /^\d+$/.test(l)).map(Number)
  t.ok(acknowledged.length > 5, `${acknowledged.length} writes acknowledged before the disk was full`)
  const store = await opened(t, dir)
  const names = (await store.list()).items.map((r) => r.metadata.name)
  t.same(names.sort(), [...acknowledged.map((n) => `cm-${n}`), 'small'].sort(), 'exactly the acknowledged writes are there: the failed one was cut back, not left torn before the small one')
})
