#!/usr/bin/env node
// Layers (issue 19): nothing under packages/ imports a service (packages are the logic services wire together), and
// each workspace package's index exports only names some other package imports — the rest is the package's own.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs'
import { basename, join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const problems = []

function sources (dir) {
  const out = []
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'dist') continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sources(path))
    else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
const workspaces = ['packages', 'services'].flatMap((top) => readdirSync(join(root, top)).map((d) => join(root, top, d)).filter((d) => existsSync(join(d, 'package.json'))))
const serviceNames = new Set(workspaces.filter((d) => relative(root, d).startsWith('services/')).map((d) => manifest(d).name))

// 1. packages/ → services/
for (const dir of workspaces.filter((d) => relative(root, d).startsWith('packages/'))) {
  for (const file of sources(dir)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1]
      if (serviceNames.has(spec) || [...serviceNames].some((s) => spec.startsWith(`${s}/`)) || /(^|\/)services\//.test(spec)) {
        problems.push(`${relative(root, file)}: imports ${spec} — packages/ must not depend on services/`)
      }
    }
  }
}

// 2. exports nobody else imports (workspace packages' src/index.ts). Enforced for the packages already narrowed;
// the others are counted, to be narrowed the same way (their tests importing the modules they test).
const NARROWED = new Set(['@flowgate/kafka', '@flowgate/egress', '@flowgate/ingress', '@flowgate/mqtt', '@flowgate/store', '@flowgate/resources', '@flowgate/admin', '@flowgate/gateway', '@flowgate/translator', '@flowgate/translate'])
const pending = new Map()
const everyFile = [...workspaces.flatMap((d) => sources(d)), ...sources(join(root, 'test'))]
for (const dir of workspaces) {
  const index = join(dir, 'src', 'index.ts')
  if (!existsSync(index)) continue
  const name = manifest(dir).name
  if (NARROWED.has(name) && /export \*/.test(readFileSync(index, 'utf8'))) problems.push(`${relative(root, index)}: export * — list the names other packages import`)
  const exported = [...readFileSync(index, 'utf8').matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((p) => p.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()).filter(Boolean))
  const users = everyFile.filter((f) => !f.startsWith(dir + '/')).map((f) => readFileSync(f, 'utf8')).filter((t) => t.includes(`'${name}'`) || t.includes(`"${name}"`) || t.includes(`${basename(dir)}/src/index.js`))
  for (const e of exported) {
    if (users.some((t) => new RegExp(`\\b${e}\\b`).test(t))) continue
    if (NARROWED.has(name)) problems.push(`${relative(root, index)}: exports ${e}, which no other package imports`)
    else pending.set(name, (pending.get(name) ?? 0) + 1)
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(p)
  console.error(`lint-layers: ${problems.length} problem${problems.length === 1 ? '' : 's'}`)
  process.exit(1)
}
console.log(`lint-layers: packages import no service; ${[...NARROWED].join(', ')} export only what others use${pending.size > 0 ? `; not narrowed yet: ${[...pending].map(([n, c]) => `${n} (${c} unused)`).join(', ')}` : ''}`)
