// What other packages use; the package's own tests import the modules they test.
export { cleanupStack } from './cleanup-stack.js'
export { runUntilSignal } from './run-until-signal.js'
export { serviceHttpApp, listeningPort } from './http-app.js'
export { probes } from './probes.js'
