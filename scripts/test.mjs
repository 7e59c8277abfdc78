#!/usr/bin/env node
// Runs the whole suite with tap and ends with one line `N passed, N failed[, N skipped]`, counting the tests
// (the `t.test` blocks directly inside each file; a file without any counts as one). tap's own reporter prints
// assertions, which says little about how many behaviours were checked.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
// Fault tests (test/e2e/faults) append one row per scenario here (test/kit's reportFault); printed after the run.
// One file per run: two runs on one machine must not clear each other's rows.
const faultTable = process.env.FLOWGATE_FAULT_TABLE ?? join(tmpdir(), `flowgate-fault-table-${process.pid}.jsonl`)
rmSync(faultTable, { force: true })
const tap = spawn(process.execPath, [fileURLToPath(new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url)), '--reporter=tap', ...process.argv.slice(2)], {
  cwd: root,
  env: { ...process.env, FLOWGATE_FAULT_TABLE: faultTable },
  stdio: ['ignore', 'pipe', 'inherit']
})

const counts = { passed: 0, failed: 0, skipped: 0 }
let childResults = 0
let childFailures = 0
const result = /^(\s*)(not ok|ok) \d+ - ?(.*?)(?:\s+#\s+(SKIP|TODO)\b.*)?(?:\s+# time=.*)?$/i

for await (const line of createInterface({ input: tap.stdout })) {
  process.stdout.write(line + '\n')
  const m = result.exec(line)
  if (m === null) continue
  const depth = m[1].length / 4
  const ok = m[2] === 'ok'
  if (depth === 1) {
    childResults++
    if (m[4]) counts.skipped++
    else if (ok) counts.passed++
    else { counts.failed++; childFailures++ }
  } else if (depth === 0) {
    // A file whose tests all ran reports its children; one that crashed or had none counts once.
    if (m[4]) counts.skipped++
    else if (childResults === 0) ok ? counts.passed++ : counts.failed++
    else if (!ok && childFailures === 0) counts.failed++
    childResults = 0
    childFailures = 0
  }
}
const code = await new Promise((resolve) => tap.on('close', (c) => resolve(c ?? 1)))
if (code !== 0 && counts.failed === 0) counts.failed++
if (existsSync(faultTable)) {
  const rows = readFileSync(faultTable, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
  process.stdout.write('\nfault scenarios (every acknowledged message must be in Kafka):\n')
  process.stdout.write('| scenario | acknowledged | in Kafka | missing | duplicates | max RSS |\n| --- | --- | --- | --- | --- | --- |\n')
  for (const r of rows) process.stdout.write(`| ${r.scenario} | ${r.acknowledged} | ${r.inKafka} | ${r.missing} | ${r.duplicates} | ${r.maxRssMb !== undefined ? `${r.maxRssMb} MB` : '–'} |\n`)
  process.stdout.write('\n')
  if (process.env.FLOWGATE_FAULT_TABLE === undefined) rmSync(faultTable, { force: true })
}
process.stdout.write(`${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}\n`)
process.exitCode = code
