import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { PutOptions, PutResult, ResourceKey, Store, StoredResource, WatchEvent, WatchOptions } from './types.js'
import { storeDefaults, type FileStoreTuning } from './options.js'
import { FG_ERR_STORE_CLOSED, FG_ERR_STORE_CORRUPT, FG_ERR_STORE_IO, FG_ERR_STORE_WATCH_EXPIRED } from './errors.js'
import { byNamespaceThenName, checkKey, checkPrecondition, keyOfResource, keyString, parseVersion, stamp, tombstone } from './versioning.js'
import { decodeSegment, encodeRecord, type JournalRecord, type Snapshot } from './journal.js'
import { syncDir, writeFileAtomic } from './atomic-file.js'
import { acquireLock } from './file-lock.js'
import { WatchChannel } from './watch-channel.js'
import { withStatusPart } from './status-parts.js'

/*
 * The embedded store. Layout of its directory:
 *   lock                       pid (and start time) of the owning process
 *   snapshot-<seq>.json        every resource at the start of journal segment <seq> (written atomically)
 *   wal-<seq>-<base>.log       journal segment: one checksummed line per committed batch, events after rv <base>
 * A write is one journal record, appended and fdatasync'ed before the caller hears of it (several concurrent writes
 * share one fdatasync: group commit). A crash or SIGKILL mid-append leaves a torn last line, which fails its
 * checksum and is cut off on open: that batch was never acknowledged, and a putAll is in or out as a whole. When a
 * segment grows past `segmentBytes`, a snapshot is written (temp file, fsync, rename, fsync dir) and a new segment
 * starts. The segments double as the watch log: the newest `changeLogLimit` events are kept on disk and in memory.
 * One process writes a directory (the lock); in one process, every openFileStore of a directory shares one engine.
 */

interface Segment { seq: number, base: bigint, path: string, events: number }

type Op =
  | { type: 'put', items: Array<{ resource: StoredResource, options?: PutOptions }>, resolve: (r: PutResult[]) => void, reject: (e: unknown) => void }
  | { type: 'delete', key: ResourceKey, options?: PutOptions, resolve: (r: StoredResource | undefined) => void, reject: (e: unknown) => void }
  | { type: 'status', key: ResourceKey, status: unknown, writer?: string, resolve: () => void, reject: (e: unknown) => void }

const SNAPSHOT = /^snapshot-(\d+)\.json$/
const SEGMENT = /^wal-(\d+)-(\d+)\.log$/
const pad = (n: number): string => String(n).padStart(10, '0')
const clone = <T>(v: T): T => structuredClone(v)
const versionOf = (r: StoredResource): bigint => BigInt(r.metadata.resourceVersion ?? '0')

class FileEngine {
  private readonly state = new Map<string, StoredResource>()
  rv = 0n
  /** Retained events, oldest first; every event after `logStart` is here. */
  private log: WatchEvent[] = []
  private logStart = 0n
  private segments: Segment[] = []
  private active: { segment: Segment, handle: FileHandle, size: number } | undefined
  private snapshotSeq = 0
  private lastSnapshotBytes = 0
  private pending: Op[] = []
  private flushing: Promise<void> | undefined
  private poisoned: Error | undefined
  private closed = false
  private readonly channels = new Set<WatchChannel>()
  private readonly limit: number
  private readonly segmentBytes: number

  private constructor (readonly dir: string, options: FileStoreTuning, private readonly release: () => Promise<void>) {
    this.limit = options.changeLogLimit ?? storeDefaults.changeLogLimit
    this.segmentBytes = options.segmentBytes ?? storeDefaults.segmentBytes
  }

  static async open (dir: string, options: FileStoreTuning): Promise<FileEngine> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const release = await acquireLock(dir)
    const engine = new FileEngine(dir, options, release)
    try {
      await engine.load()
    } catch (err) {
      await engine.active?.handle.close().catch(() => {})
      await release()
      throw err
    }
    return engine
  }

  private async load (): Promise<void> {
    const names = await readdir(this.dir)
    for (const name of names) if (name.endsWith('.tmp')) await unlink(join(this.dir, name)).catch(() => {}) // a snapshot cut short
    const snapshots = names.map((n) => SNAPSHOT.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => b - a)
    let snapshotRv = 0n
    if (snapshots.length > 0) {
      this.snapshotSeq = snapshots[0]!
      const path = join(this.dir, `snapshot-${pad(this.snapshotSeq)}.json`)
      let snapshot: Snapshot
      try {
        const text = await readFile(path, 'utf8')
        snapshot = JSON.parse(text) as Snapshot
        this.lastSnapshotBytes = text.length
      } catch (err) {
        throw FG_ERR_STORE_CORRUPT(`${path} does not parse; it was written atomically, so the disk or someone changed it`, err)
      }
      snapshotRv = BigInt(snapshot.resourceVersion)
      for (const r of snapshot.resources) this.state.set(keyString(keyOfResource(r)), r)
      // Older snapshots a crash left behind before their removal: the newest one covers them.
      for (const seq of snapshots.slice(1)) await unlink(join(this.dir, `snapshot-${pad(seq)}.json`)).catch(() => {})
    }
    this.rv = snapshotRv

    const found = names.map((n) => SEGMENT.exec(n)).filter((m) => m !== null)
      .map((m) => ({ seq: Number(m[1]), base: BigInt(m[2]!), path: join(this.dir, m[0]), events: 0 }))
      .sort((a, b) => a.seq - b.seq)
    const events: WatchEvent[] = []
    let validBytes = 0
    for (const [i, segment] of found.entries()) {
      const parsed = decodeSegment(await readFile(segment.path))
      if (parsed.torn) {
        // Only the segment being appended to can end in a record cut short; anywhere else it is damage.
        if (i !== found.length - 1) throw FG_ERR_STORE_CORRUPT(`${segment.path} is damaged at byte ${parsed.validBytes}`)
        const handle = await open(segment.path, 'r+')
        try { await handle.truncate(parsed.validBytes); await handle.sync() } finally { await handle.close() }
      }
      validBytes = parsed.validBytes
      for (const record of parsed.records) this.replay(record, segment, snapshotRv, events)
      this.segments.push(segment)
    }
    this.logStart = this.segments[0]?.base ?? snapshotRv
    if (this.logStart > this.rv) this.logStart = this.rv
    this.log = events
    this.trimLog(this.limit)

    const last = this.segments.at(-1)
    if (last !== undefined && last.seq >= this.snapshotSeq) {
      this.active = { segment: last, handle: await open(last.path, 'a', 0o600), size: validBytes }
    } else {
      // A fresh store, or a crash between writing a snapshot and starting its segment.
      await this.startSegment(Math.max(this.snapshotSeq, (last?.seq ?? -1) + 1))
    }
  }

  private replay (record: JournalRecord, segment: Segment, snapshotRv: bigint, events: WatchEvent[]): void {
    if (record.t === 'w') {
      for (const event of record.ev) {
        const rv = versionOf(event.object)
        segment.events++
        events.push(event)
        if (rv <= snapshotRv) continue // already in the snapshot
        const key = keyString(keyOfResource(event.object))
        if (event.type === 'DELETED') this.state.delete(key)
        else this.state.set(key, event.object)
        if (rv > this.rv) this.rv = rv
      }
    } else if (record.t === 's' && segment.seq >= this.snapshotSeq) {
      const key = keyString({ kind: record.k[0], namespace: record.k[1], name: record.k[2] })
      const current = this.state.get(key)
      if (current !== undefined) this.state.set(key, withStatus(current, record.s))
    }
  }

  private async startSegment (seq: number): Promise<void> {
    const segment: Segment = { seq, base: this.rv, path: join(this.dir, `wal-${pad(seq)}-${this.rv}.log`), events: 0 }
    const handle = await open(segment.path, 'ax', 0o600)
    try {
      await syncDir(this.dir)
    } catch (err) {
      await handle.close().catch(() => {})
      throw err
    }
    const previous = this.active
    this.active = { segment, handle, size: 0 }
    this.segments.push(segment)
    await previous?.handle.close().catch(() => {})
  }

  private trimLog (keep: number): void {
    if (this.log.length <= keep) return
    const dropped = this.log.splice(0, this.log.length - keep)
    this.logStart = versionOf(dropped.at(-1)!.object)
  }

  // ---- reads ----

  get (key: ResourceKey): StoredResource | undefined {
    const r = this.state.get(keyString(checkKey(key)))
    return r === undefined ? undefined : clone(r)
  }

  list (filter: { kind?: string, namespace?: string } = {}): { items: StoredResource[], resourceVersion: string } {
    const items: StoredResource[] = []
    for (const r of this.state.values()) {
      if ((filter.kind === undefined || r.kind === filter.kind) && (filter.namespace === undefined || r.metadata.namespace === filter.namespace)) items.push(r)
    }
    return { items: clone(items.sort(byNamespaceThenName)), resourceVersion: String(this.rv) }
  }

  // ---- writes: queued, validated in order, committed in groups ----

  enqueue (op: Op): void {
    if (this.closed) { op.reject(FG_ERR_STORE_CLOSED()); return }
    if (this.poisoned !== undefined) { op.reject(this.poisoned); return }
    this.pending.push(op)
    this.flushing ??= this.drain()
  }

  private async drain (): Promise<void> {
    while (this.pending.length > 0) {
      const ops = this.pending.splice(0)
      try {
        await this.commit(ops)
      } catch (err) {
        for (const op of ops) op.reject(err) // a bug, not an I/O error: fail the group, keep serving
      }
      if (this.poisoned === undefined && this.active !== undefined && this.active.size >= Math.max(this.segmentBytes, 2 * this.lastSnapshotBytes)) {
        await this.roll().catch(() => { /* the journal goes on in the current segment; the next commit tries again */ })
      }
    }
    // Cleared in the same step as the last look at `pending`: an enqueue after this starts a new drain.
    this.flushing = undefined
  }

  private async commit (ops: Op[]): Promise<void> {
    if (this.poisoned !== undefined) { for (const op of ops) op.reject(this.poisoned); return }
    const overlay = new Map<string, StoredResource | null>()
    const current = (k: string): StoredResource | undefined => overlay.has(k) ? overlay.get(k) ?? undefined : this.state.get(k)
    let rv = this.rv
    const now = new Date()
    const records: JournalRecord[] = []
    const events: WatchEvent[] = []
    const settle: Array<{ ok: () => void, fail: (e: unknown) => void }> = []

    for (const op of ops) {
      try {
        if (op.type === 'put') {
          // Validate the whole batch against the state as it will be before touching the group's overlay.
          const local = new Map<string, StoredResource>()
          let r = rv
          const results: PutResult[] = []
          const batch: WatchEvent[] = []
          for (const { resource, options } of op.items) {
            const key = keyOfResource(resource)
            const k = keyString(key)
            const existing = local.get(k) ?? current(k)
            checkPrecondition(key, options?.expectedResourceVersion, existing)
            const stored = stamp(resource, key, existing, String(++r), now)
            local.set(k, stored)
            batch.push({ type: existing === undefined ? 'ADDED' : 'MODIFIED', object: stored })
            results.push({ resource: stored, created: existing === undefined })
          }
          for (const [k, v] of local) overlay.set(k, v)
          rv = r
          if (batch.length > 0) { records.push({ t: 'w', ev: batch }); events.push(...batch) }
          settle.push({ ok: () => op.resolve(clone(results)), fail: op.reject })
        } else if (op.type === 'delete') {
          const key = checkKey(op.key)
          const k = keyString(key)
          const existing = current(k)
          if (existing === undefined) { settle.push({ ok: () => op.resolve(undefined), fail: op.reject }); continue }
          checkPrecondition(key, op.options?.expectedResourceVersion, existing)
          const gone = tombstone(existing, String(++rv))
          overlay.set(k, null)
          const event: WatchEvent = { type: 'DELETED', object: gone }
          records.push({ t: 'w', ev: [event] })
          events.push(event)
          settle.push({ ok: () => op.resolve(clone(gone)), fail: op.reject })
        } else {
          const key = checkKey(op.key)
          const k = keyString(key)
          const existing = current(k)
          if (existing !== undefined) {
            const status = op.writer === undefined ? op.status : withStatusPart(existing.status, op.writer, op.status)
            overlay.set(k, withStatus(existing, status))
            records.push({ t: 's', k: [key.kind, key.namespace, key.name], s: status })
          }
          settle.push({ ok: () => op.resolve(), fail: op.reject })
        }
      } catch (err) {
        op.reject(err) // refused before anything was written: the rest of the group goes on
      }
    }

    if (records.length > 0) {
      const active = this.active!
      const bytes = Buffer.concat(records.map(encodeRecord))
      try {
        await writeAll(active.handle, bytes)
        await active.handle.datasync()
      } catch (err) {
        // Cut the journal back to its last acknowledged record, so the next record does not follow a torn one.
        try {
          await active.handle.truncate(active.size)
          await active.handle.datasync()
        } catch {
          this.poisoned = FG_ERR_STORE_IO(`the journal in ${this.dir} could not be written or repaired; restart to recover`, err)
        }
        const failure = FG_ERR_STORE_IO(`writing the journal in ${this.dir} failed: ${(err as Error).message}`, err)
        for (const s of settle) s.fail(failure)
        return
      }
      active.size += bytes.length
      active.segment.events += events.length
    }

    for (const [k, v] of overlay) {
      if (v === null) this.state.delete(k)
      else this.state.set(k, v)
    }
    this.rv = rv
    for (const event of events) {
      this.log.push(event)
      for (const channel of this.channels) channel.push(event, event.object.metadata.resourceVersion!)
    }
    // Trimmed in steps (an eighth of the limit) so that the array is not shifted on every write.
    if (this.log.length > this.limit + Math.ceil(this.limit / 8)) this.trimLog(this.limit)
    for (const s of settle) s.ok()
  }

  /** A snapshot at the current state, a new segment after it, and the segments no longer needed dropped. */
  private async roll (): Promise<void> {
    const seq = this.active!.segment.seq + 1
    const snapshot: Snapshot = { format: 1, resourceVersion: String(this.rv), resources: [...this.state.values()] }
    const text = JSON.stringify(snapshot)
    const snapshotPath = join(this.dir, `snapshot-${pad(seq)}.json`)
    await writeFileAtomic(snapshotPath, text)
    try {
      await this.startSegment(seq)
    } catch (err) {
      // Without its segment, this snapshot would hide the status records still going to the current one.
      try { await unlink(snapshotPath); await syncDir(this.dir) } catch { this.poisoned = FG_ERR_STORE_IO(`cannot remove ${snapshotPath}; restart to recover`, err) }
      throw err
    }
    const previousSnapshot = this.snapshotSeq
    this.snapshotSeq = seq
    this.lastSnapshotBytes = text.length
    if (previousSnapshot < seq) await unlink(join(this.dir, `snapshot-${pad(previousSnapshot)}.json`)).catch(() => {})
    // Keep at least `limit` events on disk for watch replay after a restart; older segments go.
    let later = this.segments.slice(1).reduce((n, s) => n + s.events, 0)
    while (this.segments.length > 1 && later >= this.limit) {
      const oldest = this.segments.shift()!
      await unlink(oldest.path).catch(() => {})
      later -= this.segments[0]!.events
    }
    await syncDir(this.dir)
  }

  // ---- watch ----

  async * follow (from: bigint | string, options: WatchOptions, owner: Set<WatchChannel>): AsyncGenerator<WatchEvent> {
    if (this.closed) return
    const fromRv = typeof from === 'bigint' ? from : parseVersion(from, 'fromResourceVersion')
    if (fromRv < this.logStart) throw FG_ERR_STORE_WATCH_EXPIRED(String(fromRv), String(this.logStart))
    const channel = new WatchChannel(this.limit + 2048, options.kind)
    // Replay and subscription happen in one synchronous step: no write can fall between them.
    let lo = 0; let hi = this.log.length
    while (lo < hi) { const mid = (lo + hi) >> 1; if (versionOf(this.log[mid]!.object) <= fromRv) lo = mid + 1; else hi = mid }
    for (let i = lo; i < this.log.length; i++) channel.push(this.log[i]!, String(fromRv))
    this.channels.add(channel)
    owner.add(channel)
    try {
      yield * channel.iterate(options.signal)
    } finally {
      this.channels.delete(channel)
      owner.delete(channel)
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.flushing
    for (const channel of this.channels) channel.end()
    await this.active?.handle.close().catch(() => {})
    await this.release()
  }
}

function withStatus (r: StoredResource, status: unknown): StoredResource {
  const { status: _old, ...rest } = r
  return status === undefined ? rest : { ...rest, status }
}

async function writeAll (handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset)
    offset += bytesWritten
  }
}

// One engine per directory in this process, shared by every store opened on it. Kept on globalThis so that two
// copies of this module in one process (two install paths, a bundler) still share it rather than both write.
interface Registry { engines: Map<string, { engine: Promise<FileEngine>, refs: number }>, closing: Map<string, Promise<void>> }
const registry: Registry = ((globalThis as Record<symbol, unknown>)[Symbol.for('flowgate.store.fileEngines')] ??= { engines: new Map(), closing: new Map() }) as Registry
const { engines, closing } = registry

/** A Store over one engine; closing it ends its own watchers and, when it was the last, closes the engine. */
class FileStore implements Store {
  private closed = false
  private readonly channels = new Set<WatchChannel>()

  constructor (private readonly engine: FileEngine, private readonly done: () => Promise<void>) {}

  private run<T> (make: (resolve: (v: T) => void, reject: (e: unknown) => void) => Op): Promise<T> {
    if (this.closed) return Promise.reject(FG_ERR_STORE_CLOSED())
    return new Promise<T>((resolve, reject) => this.engine.enqueue(make(resolve, reject)))
  }

  async get (key: ResourceKey): Promise<StoredResource | undefined> {
    if (this.closed) throw FG_ERR_STORE_CLOSED()
    return this.engine.get(key)
  }

  async list (filter?: { kind?: string, namespace?: string }): Promise<{ items: StoredResource[], resourceVersion: string }> {
    if (this.closed) throw FG_ERR_STORE_CLOSED()
    return this.engine.list(filter)
  }

  async put (resource: StoredResource, options?: PutOptions): Promise<PutResult> {
    const [result] = await this.run<PutResult[]>((resolve, reject) => ({ type: 'put', items: [{ resource, options }], resolve, reject }))
    return result!
  }

  async putAll (resources: Array<{ resource: StoredResource, options?: PutOptions }>): Promise<PutResult[]> {
    if (resources.length === 0) return []
    return await this.run<PutResult[]>((resolve, reject) => ({ type: 'put', items: [...resources], resolve, reject }))
  }

  async delete (key: ResourceKey, options?: PutOptions): Promise<StoredResource | undefined> {
    return await this.run<StoredResource | undefined>((resolve, reject) => ({ type: 'delete', key, options, resolve, reject }))
  }

  async setStatus (key: ResourceKey, status: unknown, options?: { writer?: string }): Promise<void> {
    const copy = status === undefined ? undefined : JSON.parse(JSON.stringify(status)) as unknown
    await this.run<void>((resolve, reject) => ({ type: 'status', key, status: copy, ...(options?.writer !== undefined ? { writer: options.writer } : {}), resolve: () => resolve(), reject }))
  }

  watch (options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    if (this.closed) return (async function * () {})()
    // "Live" means after what this store had committed when watch() was called, even if iteration starts later.
    return this.engine.follow(options.fromResourceVersion ?? this.engine.rv, options, this.channels)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const channel of this.channels) channel.end()
    await this.done()
  }
}

/** Opens (or joins, within this process) the file store of a data directory: its files are in `<dataDir>/store`. */
export async function openFileStore (dataDir: string, options: FileStoreTuning = {}): Promise<Store> {
  const dir = resolve(dataDir, 'store')
  await closing.get(dir)
  let entry = engines.get(dir)
  if (entry === undefined) {
    entry = { engine: FileEngine.open(dir, options), refs: 0 }
    engines.set(dir, entry)
    entry.engine.catch(() => { if (engines.get(dir) === entry) engines.delete(dir) })
  }
  entry.refs++
  const joined = entry
  let engine: FileEngine
  try {
    engine = await joined.engine
  } catch (err) {
    joined.refs--
    throw err
  }
  return new FileStore(engine, async () => {
    if (--joined.refs > 0) return
    if (engines.get(dir) === joined) engines.delete(dir)
    const done = engine.close().finally(() => { if (closing.get(dir) === done) closing.delete(dir) })
    closing.set(dir, done)
    await done
  })
}
