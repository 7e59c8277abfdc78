// tap `before`: one Kafka rig for the whole run. Reuses a rig that is already up (say, `pnpm kafka:start`)
// and then leaves it running; otherwise marks it as ours so `rig-down.mjs` stops it.
import { writeFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { readRig, isRigAlive, startRig } from '../../infra/kafka/rig.mjs'
import { ownedMarker } from './owned.mjs'

if (process.env.FLOWGATE_TEST_RIG === '0') {
  process.stdout.write('# FLOWGATE_TEST_RIG=0: not starting the Kafka rig\n')
} else {
  const existing = readRig()
  if (existing && await isRigAlive(existing)) {
    process.stdout.write(`# reusing the running Kafka rig (pid ${existing.pid})\n`)
  } else {
    const started = Date.now()
    await startRig({ log: (line) => process.stdout.write(`# ${line}\n`) })
    mkdirSync(dirname(ownedMarker), { recursive: true })
    writeFileSync(ownedMarker, String(process.pid))
    process.stdout.write(`# Kafka rig up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  }
}
