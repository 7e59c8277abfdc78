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
 * Waits (up to `timeoutMs`) for the status to settle, then asserts the balance and returns the counters.
 */
export async function checkLedger (t: Test, admin: AdminClient, dataflow: string, timeoutMs = 10_000): Promise<Ledger> {
  const path = `/api/v1/namespaces/azure-iot-operations/dataflows/${dataflow}`
  const until = Date.now() + timeoutMs
  let counters: Ledger | undefined
  for (;;) {
    counters = (await admin.get(path)).body?.status?.counters as Ledger | undefined
    if (counters !== undefined && balanced(counters)) break
    if (Date.now() > until) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  t.ok(counters !== undefined && balanced(counters), `ledger balances: ${JSON.stringify(counters)}`)
  return counters ?? { received: 0, sent: 0, dropped: {}, buffered: 0 }
}

function balanced (c: Ledger): boolean {
  const dropped = Object.values(c.dropped).reduce((a, b) => a + b, 0)
  return c.received === c.sent + dropped + c.buffered
}
