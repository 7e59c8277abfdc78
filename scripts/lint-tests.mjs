#!/usr/bin/env node
// Refuses focused tests (`.only`), which silently hide the rest of the suite, and skips without a reason.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const roots = ['packages', 'services', 'test']
const offenders = []
function walk (dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (/\.test\.(ts|mjs|js)$/.test(name)) {
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        if (/\b(t|it|test|describe)\.only\(|\{\s*only:\s*true/.test(line)) offenders.push(`${path}:${i + 1}: focused test`)
        if (/\bskip:\s*true\b/.test(line)) offenders.push(`${path}:${i + 1}: skip without a reason (give skip a string)`)
      })
    }
  }
}
for (const r of roots) walk(r)
if (offenders.length) {
  console.error(offenders.join('\n'))
  process.exit(1)
}
