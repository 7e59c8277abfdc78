// The commands the rig needs, checked up front so a missing one is a single line and not a spawn ENOENT.
import { spawnSync } from 'node:child_process'
import { missingCommand, javaTooOld } from './errors.mjs'

const hints = {
  java: 'install a JDK 17+ (Debian: apt-get install -y openjdk-17-jre-headless)',
  mvn: 'install Maven to fetch the Kafka jars (Debian: apt-get install -y maven)',
  openssl: 'install OpenSSL to make the test certificates (Debian: apt-get install -y openssl)'
}

/** Throws a RigError when `cmd` cannot be run; returns what it printed for `args`. */
export function requireCommand (cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.error?.code === 'ENOENT') throw missingCommand(cmd, hints[cmd] ?? 'install it and put it on PATH')
  if (r.error) throw r.error
  return `${r.stdout ?? ''}${r.stderr ?? ''}`
}

/** Kafka 4 brokers and tools need Java 17 or later (KIP-750 / KIP-1013). */
export function requireJava () {
  const out = requireCommand('java', ['-version'])
  const m = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(out)
  if (!m) return
  // Java 8 prints "1.8.0_x": the feature release is the second number then.
  const feature = m[1] === '1' ? Number(m[2]) : Number(m[1])
  if (feature < 17) throw javaTooOld(m[0].slice(9, -1))
}
