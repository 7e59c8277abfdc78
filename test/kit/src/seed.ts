import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** What a reader types in place of the seed page's `<PLACEHOLDER>`s: a port for `<PORT>`, a DNS-style name otherwise. */
export function fillPlaceholders (text: string): string {
  return text.replace(/<([A-Za-z][A-Za-z0-9_-]*)>/g, (_m, name: string) => name === 'PORT' ? '9093' : name.toLowerCase())
}

const seedFixtures = new URL('../../../packages/resources/test/fixtures/', import.meta.url)
let filledDir: string | undefined

/** A seed example as the page writes it (`filled: false`), or with its placeholders filled in, as a file path. */
export function seedExample (name: string, { filled = true } = {}): string {
  const path = fileURLToPath(new URL(name, seedFixtures))
  if (!filled) return path
  filledDir ??= mkdtempSync(join(tmpdir(), 'flowgate-seed-'))
  const out = join(filledDir, basename(path))
  writeFileSync(out, fillPlaceholders(readFileSync(path, 'utf8')))
  return out
}
