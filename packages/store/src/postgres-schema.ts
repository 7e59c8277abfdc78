import type pg from 'pg'
import { FG_ERR_STORE_INVALID } from './errors.js'

/** Table names of one schema, quoted for SQL. */
export interface PgNames {
  schema: string
  resources: string
  changes: string
  logState: string
  sequence: string
  /** The NOTIFY channel: one per schema, so two Flowgate installs in one database do not wake each other. */
  channel: string
  /** Key of the advisory lock that serialises writers (see postgres-store.ts). */
  writeLock: string
}

export function pgNames (schema: string): PgNames {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(schema)) throw FG_ERR_STORE_INVALID(`schema ${JSON.stringify(schema)}: lower-case letters, digits and _ only`)
  return {
    schema,
    resources: `"${schema}".resources`,
    changes: `"${schema}".changes`,
    logState: `"${schema}".change_log_state`,
    sequence: `"${schema}".resource_version`,
    channel: `${schema}_changes`,
    writeLock: `flowgate-writes:${schema}`
  }
}

/**
 * Creates what is missing, under an advisory lock so that replicas starting together do not race on CREATE.
 * `resources.body` is the resource as written (status apart, in its own column: setStatus never touches the body
 * nor its resource_version). `changes` is the watch log: one row per event, the newest `changeLogLimit` kept;
 * `change_log_state.log_start` is the version after which every event is still there.
 */
export async function ensureSchema (client: pg.PoolClient, n: PgNames): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`flowgate-schema:${n.schema}`])
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${n.schema}"`)
    await client.query(`CREATE SEQUENCE IF NOT EXISTS ${n.sequence}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${n.resources} (
      kind text NOT NULL,
      namespace text NOT NULL,
      name text NOT NULL,
      body jsonb NOT NULL,
      status jsonb,
      resource_version bigint NOT NULL,
      PRIMARY KEY (kind, namespace, name))`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${n.changes} (
      resource_version bigint PRIMARY KEY,
      type text NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
      kind text NOT NULL,
      namespace text NOT NULL,
      name text NOT NULL,
      object jsonb NOT NULL,
      changed_at timestamptz NOT NULL DEFAULT now())`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${n.logState} (
      id int PRIMARY KEY CHECK (id = 1),
      log_start bigint NOT NULL)`)
    await client.query(`INSERT INTO ${n.logState} (id, log_start) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`)
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
}
