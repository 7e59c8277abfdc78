// What other packages use; the package's own tests import the modules they test.
export { startEgress } from './runtime.js'
export { startStandaloneEgress } from './standalone.js'
export { createFlowFactories } from './wiring.js'
export type { ResourceReader } from './endpoint-secrets.js'
export { createDataflowMetrics } from './metrics.js'
export type { EgressOptions } from './options.js'
export type { InboundMqttMessage } from './ports.js'
export { createRemoteTranslator, type RemoteTranslateTarget } from './remote-translator.js'
