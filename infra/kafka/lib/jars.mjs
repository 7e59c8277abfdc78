// Apache Kafka's jars come from Maven Central through pom.xml, once: a stamp with the pom's sha256 makes every later
// start offline. Changing the pom (say, the Kafka version) fetches again into a clean folder.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync, rmSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requireCommand } from './prereqs.mjs'
import { fetchFailed } from './errors.mjs'

const here = fileURLToPath(new URL('..', import.meta.url))
export const pomFile = join(here, 'pom.xml')
export const cacheDir = join(here, '.cache')
export const libsDir = join(cacheDir, 'libs')
const stampFile = join(cacheDir, 'pom.sha256')

/** The Kafka version the pom pins (its `kafka.version` property). */
export function kafkaVersion () {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomFile, 'utf8'))
  return m ? m[1].trim() : 'unknown'
}

function pomHash () {
  return createHash('sha256').update(readFileSync(pomFile)).digest('hex')
}

export function jarsAreCached () {
  if (!existsSync(libsDir) || !existsSync(stampFile)) return false
  if (readFileSync(stampFile, 'utf8').trim() !== pomHash()) return false
  return readdirSync(libsDir).some((f) => f.endsWith('.jar'))
}

/** The absolute libs folder, fetching the jars first when the cache is missing or stale. */
export async function ensureJars ({ log = () => {} } = {}) {
  if (jarsAreCached()) return libsDir
  requireCommand('mvn', ['-v'])
  log(`fetching Kafka ${kafkaVersion()} jars from Maven Central (first run only)…`)
  const started = Date.now()
  // Stale jars of another version must not stay on the classpath: start from an empty folder, stamp at the end.
  rmSync(libsDir, { recursive: true, force: true })
  rmSync(stampFile, { force: true })
  mkdirSync(libsDir, { recursive: true })
  const ticker = setInterval(() => log(`  still fetching… ${Math.round((Date.now() - started) / 1000)} s`), 15_000)
  try {
    await runMaven(['-q', '-B', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${libsDir}`])
  } finally {
    clearInterval(ticker)
  }
  const jars = readdirSync(libsDir).filter((f) => f.endsWith('.jar'))
  if (jars.length === 0) throw fetchFailed(`Maven copied no jars into ${libsDir}`)
  writeFileSync(stampFile, pomHash() + '\n')
  log(`fetched ${jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s into ${libsDir}`)
  return libsDir
}

function runMaven (args) {
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (b) => { out += b })
    child.stderr.on('data', (b) => { out += b })
    child.on('error', (err) => reject(fetchFailed(err.message)))
    child.on('close', (code) => {
      if (code === 0) return resolve()
      // -q leaves only the errors: the last lines say which artifact or network step failed.
      const tail = out.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').filter(Boolean).slice(-5).join(' | ')
      reject(fetchFailed(`mvn exited with ${code}${tail ? `: ${tail}` : ''}`))
    })
  })
}
