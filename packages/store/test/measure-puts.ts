// Not a test (no timing is asserted anywhere): prints write rates of both backends on this machine.
//   node --import tsx packages/store/test/measure-puts.ts
import { mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPostgresStore } from '../src/postgres-store.js'
import { openFileStore } from '../src/file-store.js'
import type { Store } from '../src/types.js'
import { endpoint, take } from './conformance.js'
import { startTestPostgres } from '@flowgate/testkit'

async function rate (label: string, store: Store, total: number, inFlight: number): Promise<void> {
  let next = 0
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total) {
      const i = next++
      await store.put(endpoint(`e${i % 200}`, `host-${i}:9092`))
    }
  }))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  console.log(`${label.padEnd(44)} ${(total / seconds).toFixed(0).padStart(7)} puts/s  (${total} puts, ${inFlight} in flight)`)
}

async function watchLag (label: string, writer: Store, watcher: Store): Promise<void> {
  const from = (await watcher.list()).resourceVersion
  const n = 200
  const seen = take(watcher.watch({ fromResourceVersion: from }), n)
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await writer.put(endpoint(`w${i % 10}`, `h${i}:1`))
  await seen
  console.log(`${label.padEnd(44)} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0).padStart(7)} ms for ${n} puts to be written and seen by a watcher`)
}

const dir = mkdtempSync(join(tmpdir(), 'flowgate-measure-'))
const file = await openFileStore(dir)
await rate('file store, sequential', file, 2000, 1)
await rate('file store, concurrent (group commit)', file, 10000, 32)
await watchLag('file store, watch', file, file)
await file.close()
await rm(dir, { recursive: true, force: true })

const server = await startTestPostgres({ fsync: true })
try {
  const url = await server.createDatabase()
  const a = await createPostgresStore(url)
  const b = await createPostgresStore(url)
  await rate('postgres (fsync on), sequential', a, 1000, 1)
  await rate('postgres (fsync on), concurrent, one replica', a, 2000, 8)
  await watchLag('postgres, watch on another replica', a, b)
  await a.close()
  await b.close()
} finally {
  await server.stop()
}
