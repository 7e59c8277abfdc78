import { fileURLToPath } from 'node:url'

/** Present while the rig that runs was started by the test run (not by a person), so the run stops it. */
export const ownedMarker = fileURLToPath(new URL('../../infra/kafka/.run/owned-by-test-run', import.meta.url))
