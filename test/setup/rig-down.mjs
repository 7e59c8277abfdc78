// tap `after`: stops the rig only when this run started it.
import { existsSync, rmSync } from 'node:fs'
import { stopRig } from '../../infra/kafka/rig.mjs'
import { ownedMarker } from './owned.mjs'

if (existsSync(ownedMarker)) {
  await stopRig()
  rmSync(ownedMarker, { force: true })
  process.stdout.write('# Kafka rig stopped\n')
}
