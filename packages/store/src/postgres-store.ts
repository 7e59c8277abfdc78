import pg from 'pg'
import type { PutOptions, PutResult, ResourceKey, Store, StoredResource, WatchEvent, WatchEventType, WatchOptions } from './types.js'
import { storeDefaults, type PostgresStoreOptions } from './options.js'
import { FG_ERR_STORE_CLOSED, FG_ERR_STORE_UNAVAILABLE, FG_ERR_STORE_WATCH_EXPIRED, StoreError } from './errors.js'
import { checkKey, checkPrecondition, keyOfResource, parseVersion, stamp, tombstone } from './versioning.js'
import { ensureSchema, pgNames, type PgNames } from './postgres-schema.js'

/*
 * The PostgreSQL store, for several admin replicas over one database.
 *
 * Writers take one transaction-scoped advisory lock before they draw a resourceVersion from the sequence, so
 * versions are committed in the order they were drawn: a watcher that has read version N has seen everything
 * below N, and "the store's version" of a list is simply the newest change its snapshot holds. Admin writes are
 * rare and short; one writer at a time costs nothing that matters and buys that guarantee. Each write also
 * appends its events to `changes` and NOTIFYs the channel with its newest version; a watcher wakes on any
 * notification and reads `changes` after the last version it delivered, so notifications may coalesce or be
 * lost (a reconnect, a poll as safety net) without any event being lost.
 */

const FETCH = 500
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', '57P01', '57P02', '57P03'])

function storeError (err: unknown): unknown {
  if (err instanceof StoreError) return err
  const code = (err as { code?: string })?.code ?? ''
  if (CONNECTION_ERRORS.has(code) || code.startsWith('08') || /Connection terminated|not queryable/i.test((err as Error)?.message ?? '')) {
    return FG_ERR_STORE_UNAVAILABLE(`PostgreSQL unreachable: ${(err as Error).message}`, err)
  }
  return err
}

const withStatus = (body: StoredResource, status: unknown): StoredResource => status === null || status === undefined ? body : { ...body, status }

interface Waiter { wake: () => void }

/** What a write transaction can do: read an object (locked) with a fresh version drawn, write it or its deletion. */
interface WriteStep {
  read: (key: ResourceKey) => Promise<{ rv: string, existing: StoredResource | undefined }>
  write: (key: ResourceKey, type: WatchEventType, stored: StoredResource) => Promise<void>
}

class PostgresStore implements Store {
  private closed = false
  private latestSeen = 0n
  private readonly waiters = new Set<Waiter>()
  private listener: pg.Client | undefined
  private listening: Promise<void> | undefined
  private reconnectTimer: NodeJS.Timeout | undefined
  private pollTimer: NodeJS.Timeout | undefined
  private readonly limit: number
  private readonly pollIntervalMs: number

  constructor (private readonly pool: pg.Pool, private readonly n: PgNames, private readonly connection: pg.ClientConfig, options: PostgresStoreOptions) {
    this.limit = options.changeLogLimit ?? storeDefaults.changeLogLimit
    this.pollIntervalMs = options.pollIntervalMs ?? storeDefaults.pollIntervalMs
  }

  async init (): Promise<void> {
    const client = await this.pool.connect()
    try {
      await ensureSchema(client, this.n)
      this.seen(await this.currentVersion(client))
    } finally {
      client.release()
    }
  }

  private seen (rv: bigint): void { if (rv > this.latestSeen) this.latestSeen = rv }

  private async currentVersion (q: pg.PoolClient | pg.Pool): Promise<bigint> {
    const { rows } = await q.query(`SELECT greatest((SELECT coalesce(max(resource_version), 0) FROM ${this.n.changes}), (SELECT log_start FROM ${this.n.logState} WHERE id = 1)) AS rv`)
    return BigInt(rows[0].rv as string)
  }

  private check (): void { if (this.closed) throw FG_ERR_STORE_CLOSED() }

  // ---- reads ----

  async get (key: ResourceKey): Promise<StoredResource | undefined> {
    this.check()
    checkKey(key)
    try {
      const { rows } = await this.pool.query(`SELECT body, status FROM ${this.n.resources} WHERE kind = $1 AND namespace = $2 AND name = $3`, [key.kind, key.namespace, key.name])
      return rows[0] === undefined ? undefined : withStatus(rows[0].body, rows[0].status)
    } catch (err) { throw storeError(err) }
  }

  async list (filter: { kind?: string, namespace?: string } = {}): Promise<{ items: StoredResource[], resourceVersion: string }> {
    this.check()
    const where: string[] = []
    const params: string[] = []
    if (filter.kind !== undefined) { params.push(filter.kind); where.push(`kind = $${params.length}`) }
    if (filter.namespace !== undefined) { params.push(filter.namespace); where.push(`namespace = $${params.length}`) }
    try {
      return await this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
        // One snapshot for the items and the version: watching from it misses nothing and repeats nothing.
        const { rows } = await client.query(`SELECT body, status FROM ${this.n.resources}${where.length > 0 ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY namespace COLLATE "C", name COLLATE "C"`, params)
        const rv = await this.currentVersion(client)
        this.seen(rv)
        return { items: rows.map((r) => withStatus(r.body, r.status)), resourceVersion: String(rv) }
      })
    } catch (err) { throw storeError(err) }
  }

  // ---- writes ----

  private async transaction<T> (begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    try {
      await client.query(begin)
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  /**
   * One write transaction: serialised with every other writer, its events logged and announced. Round trips are
   * what a serialised writer pays for, so statements travel together: BEGIN with the lock, each object's read with
   * its version, its write with its change row, and the log trimming and NOTIFY with COMMIT (literals there are
   * digits and the validated schema name; values go as parameters everywhere else).
   */
  private async write<T> (work: (step: WriteStep) => Promise<T>): Promise<T> {
    this.check()
    let last: bigint | undefined
    const client = await this.pool.connect().catch((err: unknown) => { throw storeError(err) })
    try {
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtext('${this.n.writeLock}'))`)
      const step: WriteStep = {
        read: async (key) => {
          const { rows } = await client.query(`SELECT nextval('${this.n.sequence}')::text AS rv, r.body, r.status FROM (SELECT 1) AS one
            LEFT JOIN (SELECT body, status FROM ${this.n.resources} WHERE kind = $1 AND namespace = $2 AND name = $3 FOR UPDATE) AS r ON true`, [key.kind, key.namespace, key.name])
          const row = rows[0]
          return { rv: row.rv as string, existing: row.body === null ? undefined : withStatus(row.body, row.status) }
        },
        write: async (key, type, stored) => {
          const { status: _s, ...body } = stored
          const change = [stored.metadata.resourceVersion, type, key.kind, key.namespace, key.name, JSON.stringify(stored)]
          if (type === 'DELETED') {
            await client.query(`WITH gone AS (DELETE FROM ${this.n.resources} WHERE kind = $3 AND namespace = $4 AND name = $5)
              INSERT INTO ${this.n.changes} (resource_version, type, kind, namespace, name, object) VALUES ($1, $2, $3, $4, $5, $6)`, change)
          } else {
            await client.query(`WITH up AS (INSERT INTO ${this.n.resources} (kind, namespace, name, body, resource_version) VALUES ($3, $4, $5, $7, $1)
                ON CONFLICT (kind, namespace, name) DO UPDATE SET body = EXCLUDED.body, resource_version = EXCLUDED.resource_version)
              INSERT INTO ${this.n.changes} (resource_version, type, kind, namespace, name, object) VALUES ($1, $2, $3, $4, $5, $6)`, [...change, JSON.stringify(body)])
          }
          last = BigInt(stored.metadata.resourceVersion!)
        }
      }
      const result = await work(step)
      if (last === undefined) {
        await client.query('ROLLBACK') // nothing written (a delete of nothing); the version drawn is simply skipped
      } else {
        // Keep the newest `limit` versions; log_start records where the kept log begins (older: 410).
        const floor = last - BigInt(this.limit)
        const trim = floor > 0n
          ? `WITH s AS (UPDATE ${this.n.logState} SET log_start = ${floor} WHERE id = 1 AND log_start < ${floor} RETURNING log_start)
             DELETE FROM ${this.n.changes} WHERE resource_version <= (SELECT log_start FROM s); `
          : ''
        await client.query(`${trim}SELECT pg_notify('${this.n.channel}', '${last}'); COMMIT`)
        this.seen(last)
      }
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw storeError(err)
    } finally {
      client.release()
    }
  }

  async put (resource: StoredResource, options?: PutOptions): Promise<PutResult> {
    const [result] = await this.putAll([{ resource, options }])
    return result!
  }

  async putAll (resources: Array<{ resource: StoredResource, options?: PutOptions }>): Promise<PutResult[]> {
    this.check()
    if (resources.length === 0) return []
    const keys = resources.map(({ resource }) => keyOfResource(resource)) // refuse a malformed batch before any I/O
    const now = new Date()
    return await this.write(async (step) => {
      const results: PutResult[] = []
      for (const [i, { resource, options }] of resources.entries()) {
        const key = keys[i]!
        const { rv, existing } = await step.read(key)
        checkPrecondition(key, options?.expectedResourceVersion, existing)
        const stored = stamp(resource, key, existing, rv, now)
        await step.write(key, existing === undefined ? 'ADDED' : 'MODIFIED', stored)
        results.push({ resource: stored, created: existing === undefined })
      }
      return results
    })
  }

  async delete (key: ResourceKey, options?: PutOptions): Promise<StoredResource | undefined> {
    this.check()
    checkKey(key)
    return await this.write(async (step) => {
      const { rv, existing } = await step.read(key)
      if (existing === undefined) return undefined
      checkPrecondition(key, options?.expectedResourceVersion, existing)
      const gone = tombstone(existing, rv)
      await step.write(key, 'DELETED', gone)
      return gone
    })
  }

  async setStatus (key: ResourceKey, status: unknown, options?: { writer?: string }): Promise<void> {
    this.check()
    checkKey(key)
    const value = status === undefined ? null : JSON.stringify(status)
    try {
      if (options?.writer === undefined) {
        await this.pool.query(`UPDATE ${this.n.resources} SET status = $4 WHERE kind = $1 AND namespace = $2 AND name = $3`,
          [key.kind, key.namespace, key.name, value])
        return
      }
      // One statement, so that writers updating their parts at once each keep theirs (status-parts.ts).
      await this.pool.query(`UPDATE ${this.n.resources}
        SET status = jsonb_build_object('parts', (CASE WHEN jsonb_typeof(status->'parts') = 'object' THEN status->'parts' ELSE '{}'::jsonb END)
          || jsonb_build_object($5::text, $4::jsonb))
        WHERE kind = $1 AND namespace = $2 AND name = $3`, [key.kind, key.namespace, key.name, value, options.writer])
    } catch (err) { throw storeError(err) }
  }

  // ---- watch ----

  watch (options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    // "Live": after what this replica knows to be committed when watch() is called (its own writes included).
    return this.follow(options.fromResourceVersion ?? this.latestSeen, options)
  }

  private async * follow (from: string | bigint, options: WatchOptions): AsyncGenerator<WatchEvent> {
    if (this.closed) return
    const live = typeof from === 'bigint'
    let pos = typeof from === 'bigint' ? from : parseVersion(from, 'fromResourceVersion')
    let dirty = true
    let failures = 0
    let wait: (() => void) | undefined
    const waiter: Waiter = { wake: () => { dirty = true; const w = wait; wait = undefined; w?.() } }
    const stopped = (): boolean => this.closed || options.signal?.aborted === true
    const onAbort = (): void => waiter.wake()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    this.waiters.add(waiter)
    try {
      await this.listen()
      while (!stopped()) {
        if (!dirty) { await new Promise<void>((resolve) => { wait = resolve }); continue }
        dirty = false
        let batch: Awaited<ReturnType<PostgresStore['fetch']>>
        try {
          batch = await this.fetch(pos, options.kind, live)
          failures = 0
        } catch (err) {
          // A database restart or a dropped connection: keep the position and look again, rather than end a watch
          // its consumer may never restart. Anything else (410, a bad version) ends it.
          if (stopped()) return // closed under it: end quietly, as a close does
          if ((err as StoreError).code !== 'FG_ERR_STORE_UNAVAILABLE') throw err
          const delay = Math.min(5000, 250 * 2 ** failures++)
          await new Promise<void>((resolve) => { const timer = setTimeout(resolve, delay); wait = () => { clearTimeout(timer); resolve() } })
          dirty = true
          continue
        }
        if (batch.skipTo !== undefined) pos = batch.skipTo
        for (const row of batch.events) {
          if (stopped()) return
          pos = BigInt(row.object.metadata.resourceVersion!)
          yield row
        }
        if (batch.events.length === FETCH) dirty = true
        else if (batch.newest > pos) pos = batch.newest // nothing of this kind up to there: don't fall behind the log
        this.seen(pos)
      }
    } finally {
      this.waiters.delete(waiter)
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  private async fetch (pos: bigint, kind: string | undefined, live: boolean): Promise<{ events: WatchEvent[], newest: bigint, skipTo?: bigint }> {
    try {
      return await this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
        const state = await client.query(`SELECT log_start, (SELECT coalesce(max(resource_version), 0) FROM ${this.n.changes}) AS newest FROM ${this.n.logState} WHERE id = 1`)
        const logStart = BigInt(state.rows[0].log_start as string)
        const newest = BigInt(state.rows[0].newest as string)
        let skipTo: bigint | undefined
        if (pos < logStart) {
          // A live watcher asked for nothing in particular: start at the present rather than fail.
          if (!live) throw FG_ERR_STORE_WATCH_EXPIRED(String(pos), String(logStart))
          skipTo = pos = newest > logStart ? newest : logStart
        }
        const params: unknown[] = [String(pos)]
        if (kind !== undefined) params.push(kind)
        const { rows } = await client.query(`SELECT type, object FROM ${this.n.changes} WHERE resource_version > $1${kind !== undefined ? ' AND kind = $2' : ''} ORDER BY resource_version LIMIT ${FETCH}`, params)
        return { events: rows.map((r) => ({ type: r.type as WatchEventType, object: r.object as StoredResource })), newest, skipTo }
      })
    } catch (err) { throw storeError(err) }
  }

  /** The LISTEN connection, shared by this store's watchers; reconnected with backoff while any watcher is left. */
  private async listen (): Promise<void> {
    if (this.listening !== undefined) return await this.listening
    this.listening = (async () => {
      const client = new pg.Client(this.connection)
      client.on('notification', (msg) => {
        if (msg.channel !== this.n.channel) return
        if (msg.payload !== undefined && /^\d+$/.test(msg.payload)) this.seen(BigInt(msg.payload))
        for (const w of this.waiters) w.wake()
      })
      const lost = (): void => {
        if (this.listener !== client) return
        this.listener = undefined
        this.listening = undefined
        client.end().catch(() => {})
        this.scheduleReconnect()
      }
      client.on('error', lost)
      client.on('end', lost)
      this.listener = client
      try {
        await client.connect()
        await client.query(`LISTEN "${this.n.channel}"`)
      } catch (err) {
        this.listener = undefined
        this.listening = undefined
        client.end().catch(() => {})
        throw storeError(err)
      }
      // Whatever was committed while (re)connecting: every watcher looks again.
      for (const w of this.waiters) w.wake()
      this.pollTimer ??= setInterval(() => { for (const w of this.waiters) w.wake() }, this.pollIntervalMs)
      this.pollTimer.unref()
    })()
    return await this.listening
  }

  private scheduleReconnect (): void {
    if (this.closed || this.reconnectTimer !== undefined) return
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (this.closed || this.waiters.size === 0) return // the next watcher connects again
      this.listen().catch(() => this.scheduleReconnect())
    }, 500)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.reconnectTimer)
    clearInterval(this.pollTimer)
    for (const w of this.waiters) w.wake()
    const listener = this.listener
    this.listener = undefined
    await listener?.end().catch(() => {})
    await this.pool.end().catch(() => {})
  }
}

/**
 * Opens the PostgreSQL store at `url` (postgres://user:password@host:port/database), creating its schema, tables
 * and sequence when missing. Several processes may open the same database: that is what it is for.
 */
export async function createPostgresStore (url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const n = pgNames(options.schema ?? storeDefaults.schema)
  const connection: pg.ClientConfig = { connectionString: url, application_name: 'flowgate' }
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? storeDefaults.poolSize })
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  const store = new PostgresStore(pool, n, connection, options)
  try {
    await store.init()
  } catch (err) {
    await pool.end().catch(() => {})
    throw storeError(err)
  }
  return store
}
