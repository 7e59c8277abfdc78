import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openFileStore } from '../src/file-store.js'
import { conformance } from './conformance.js'

// The shared conformance suite over the embedded file store, each test in a fresh data directory.
const dirs: string[] = []
t.teardown(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

conformance(t, async (options) => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-store-'))
  dirs.push(dir)
  return await openFileStore(dir, options)
})
