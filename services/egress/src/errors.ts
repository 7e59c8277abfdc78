/**
 * Errors the dataflow runtime raises, each with a stable code (docs/CONVENTIONS.md); a dataflow's status shows the
 * code's reason (status.ts `reasonOf`). Callers and tests match on `code`, never on text. Errors of Kafka and MQTT
 * endpoints come from @flowgate/kafka and @flowgate/mqtt.
 */
export class EgressError extends Error {
  readonly code: string
  /** Retrying the same thing will not help (a configuration to fix); absent means it may. */
  readonly permanent: boolean
  constructor (code: string, message: string, opts: { permanent?: boolean, cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'EgressError'
    this.code = code
    this.permanent = opts.permanent ?? true
  }
}

/** This build cannot run such a dataflow (a part not wired in, e.g. the split egress without a network source). */
export const FG_ERR_DATAFLOW_UNSUPPORTED = (message: string): EgressError => new EgressError('FG_ERR_DATAFLOW_UNSUPPORTED', message)

/** A Secret exists but lacks the keys its endpoint's authentication needs. */
export const FG_ERR_SECRET_KEYS = (secret: string, needs: string): EgressError =>
  new EgressError('FG_ERR_SECRET_KEYS', `Secret ${secret} ${needs}`)

/** No way to read Secrets here (an MQTT source built without a resource reader; the admin API store serves none). */
export const FG_ERR_SECRET_UNAVAILABLE = (what: string, why = 'this MQTT source has no resource reader'): EgressError =>
  new EgressError('FG_ERR_SECRET_UNAVAILABLE', `${what}: ${why}`)

/** An MQTT source refused the egress' credentials. */
export const FG_ERR_MQTT_AUTH_FAILED = (message: string): EgressError => new EgressError('FG_ERR_MQTT_AUTH_FAILED', message)

/** The translator (the split deployment's HTTP service) did not answer: retried like a destination that is down. */
export const FG_ERR_TRANSLATOR_UNAVAILABLE = (cause: Error): EgressError =>
  new EgressError('FG_ERR_TRANSLATOR_UNAVAILABLE', `translator unavailable: ${cause.message}`, { permanent: false, cause })

/** A dataflow that could not start holds its messages: each send fails with this (or the start's own code). */
export const FG_ERR_DATAFLOW_NOT_STARTED = (message: string): EgressError =>
  new EgressError('FG_ERR_DATAFLOW_NOT_STARTED', message, { permanent: false })
