/** Errors the all-in-one gateway raises, each with a stable code; callers and tests match on `code`, never on text. */
export class GatewayError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = 'GatewayError'
    this.code = code
  }
}

/** A dataflow's endpoint names a Secret or ConfigMap the store does not hold (yet): the dataflow waits for it. */
export const FG_ERR_SECRET_MISSING = (namespace: string, name: string): GatewayError =>
  new GatewayError('FG_ERR_SECRET_MISSING', `Secret ${namespace}/${name} not found`)
export const FG_ERR_CONFIGMAP_MISSING = (namespace: string, name: string): GatewayError =>
  new GatewayError('FG_ERR_CONFIGMAP_MISSING', `ConfigMap ${namespace}/${name} not found`)
/** A gateway worker (`--workers`) exited before it was ready: its log says why. */
export const FG_ERR_GATEWAY_WORKER = (index: number, code: number | null, signal: string | null): GatewayError =>
  new GatewayError('FG_ERR_GATEWAY_WORKER', `gateway worker ${index} exited before it was ready (${signal ?? `exit code ${String(code)}`}); its log above says why`)
