// What other packages use; the package's own tests import the modules they test.
export { startGateway } from './gateway.js'
export { startGatewayWorkers, workerIndex, reportReady } from './workers.js'
