import { appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { LedgerCheck } from './device-load.js'
import type { AdminClient } from './gateway.js'

/** Where fault tests leave their rows; `scripts/test.mjs` prints them as one table after the run. */
export const faultTableFile = process.env.FLOWGATE_FAULT_TABLE ?? join(tmpdir(), 'flowgate-fault-table.jsonl')

export interface FaultRow {
  scenario: string
  acknowledged: number
  inKafka: number
  missing: number
  duplicates: number
  /** Peak resident memory of the gateway during the scenario, when sampled. */
  maxRssMb?: number
}

/** Records one scenario's outcome: a comment in the test's output and a row of the run's fault table. */
export function reportFault (t: Test, scenario: string, check: LedgerCheck, maxRssMb?: number): FaultRow {
  const row: FaultRow = { scenario, acknowledged: check.acknowledged, inKafka: check.inKafka, missing: check.missing.length, duplicates: check.duplicates, ...(maxRssMb !== undefined ? { maxRssMb } : {}) }
  t.comment(`fault: ${JSON.stringify(row)}`)
  try { appendFileSync(faultTableFile, JSON.stringify(row) + '\n') } catch {}
  return row
}

export interface Ledger { received: number, sent: number, dropped: Record<string, number>, buffered: number }

/**
 * A dataflow's ledger from its status: every message it received is sent, dropped (by reason) or still buffered.
 * Call it once the load stopped: it waits (up to `timeoutMs`) for the status to show nothing buffered — the status
 * is written about once a second — then asserts the balance and returns the counters.
 */
export async function checkLedger (t: Test, admin: AdminClient, dataflow: string, timeoutMs = 15_000): Promise<Ledger> {
  const path = `/api/v1/namespaces/azure-iot-operations/dataflows/${dataflow}`
  const until = Date.now() + timeoutMs
  let counters: Ledger | undefined
  let previous = ''
  for (;;) {
    counters = (await admin.get(path)).body?.status?.counters as Ledger | undefined
    // Settled: nothing buffered and the same counts as a read more than one status interval ago.
    const now = JSON.stringify(counters)
    if (counters !== undefined && counters.buffered === 0 && balanced(counters) && now === previous) break
    previous = now
    if (Date.now() > until) break
    await new Promise((resolve) => setTimeout(resolve, 2100))
  }
  t.ok(counters !== undefined && balanced(counters), `ledger balances: ${JSON.stringify(counters)}`)
  const exposed = await metricsLedger(admin, dataflow)
  if (exposed !== undefined) t.ok(balanced(exposed), `ledger balances in /metrics: ${JSON.stringify(exposed)}`)
  return counters ?? { received: 0, sent: 0, dropped: {}, buffered: 0 }
}

/** The same ledger from the Prometheus series (`aio_dataflow_messages_*`), when the process serves `/metrics`. */
async function metricsLedger (admin: AdminClient, dataflow: string): Promise<Ledger | undefined> {
  const res = await admin.get('/metrics')
  if (res.status !== 200 || typeof res.body !== 'string') return undefined
  const ledger: Ledger = { received: 0, sent: 0, dropped: {}, buffered: 0 }
  const mine = `dataflow="${dataflow}"`
  for (const line of res.body.split('\n')) {
    if (line.startsWith('#') || !line.includes(mine)) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (line.startsWith('aio_dataflow_messages_received_total{')) ledger.received += value
    else if (line.startsWith('aio_dataflow_messages_sent_total{')) ledger.sent += value
    else if (line.startsWith('aio_dataflow_messages_buffered{')) ledger.buffered += value
    else if (line.startsWith('aio_dataflow_messages_dropped_total{')) {
      const reason = /reason="([^"]*)"/.exec(line)?.[1] ?? 'unknown'
      ledger.dropped[reason] = (ledger.dropped[reason] ?? 0) + value
    }
  }
  return ledger
}

function balanced (c: Ledger): boolean {
  const dropped = Object.values(c.dropped).reduce((a, b) => a + b, 0)
  return c.received === c.sent + dropped + c.buffered
}
