// The edge bundle's build and its runtimes, for tests and benches (`@flowgate/translator/edge`).
export { buildEdge, defaultOutDir, type EdgeBuild } from './build.js'
export { runtimeBinary, startEdge, type EdgeRuntimeName, type EdgeServer } from './runtimes.js'
export { handlerOptions, type TranslatorEnv } from './worker.js'
