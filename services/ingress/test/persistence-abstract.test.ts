// aedes-persistence's own abstract test suite (how every aedes persistence is tested) against the durable store,
// through the wrapper the broker gets (persistence.ts), run under tap: each abstract test is a tap test.
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createSessionPersistence } from '../src/persistence.js'

const require = createRequire(import.meta.url)
const persistenceDir = require.resolve('aedes-persistence')
const abstract = createRequire(persistenceDir)('./abstract.js') as (opts: object) => void
// The suite's broker stand-in needs an MQEmitter: aedes' own.
const mqemitter = createRequire(createRequire(import.meta.url).resolve('aedes'))('mqemitter') as () => unknown

const dirs: string[] = []
t.teardown(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

type Body = (t: object) => Promise<void> | void
// The suite compares `structuredClone(packet)` with a packet: on Node 20 the clone's payload is a Uint8Array and the
// expected one a Buffer, which deepStrictEqual tells apart (aedes' own memory persistence fails those three tests
// here the same way). Compared by bytes, as the suite means.
function bytesAsBuffers (v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  if (Array.isArray(v)) return v.map(bytesAsBuffers)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesAsBuffers(x)]))
  return v
}
const deepEqual = (actual: unknown, expected: unknown, message?: string): void => assert.deepStrictEqual(bytesAsBuffers(actual), bytesAsBuffers(expected), message)
function test (name: string, body: Body): void {
  t.test(name, async (tt) => {
    await body({
      assert: { equal: assert.equal, deepEqual, notEqual: assert.notEqual, ok: assert.ok },
      plan: () => {},
      diagnostic: (msg: string) => tt.comment(msg)
    })
    tt.pass(name)
  })
}

abstract({
  test,
  testAsync: true,
  buildEmitter: mqemitter,
  persistence () {
    const dir = mkdtempSync(join(tmpdir(), 'fg-persistence-'))
    dirs.push(dir)
    const session = createSessionPersistence({ kind: 'dir', dir })
    const p = session.persistence as { destroy: () => Promise<void> }
    // The suite destroys each instance: that closes the store.
    return p
  }
})
