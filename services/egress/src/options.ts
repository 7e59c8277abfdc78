/** Runtime options and their defaults, in one place. */
export interface EgressOptions {
  /**
   * Messages a dataflow holds while its destination is slow or down (queued + in flight). Past it, QoS 1
   * publishes stay unacknowledged (devices back off, nothing acknowledged is lost) and QoS 0 ones are dropped.
   */
  bufferMessages: number
  /** The same bound in payload bytes (whichever is reached first): a few large messages fill it as many small ones do. */
  bufferBytes: number
  /** First and longest wait between attempts while a destination refuses with a retriable error. */
  retryMinMs: number
  retryMaxMs: number
  /**
   * A destination that has not answered any send for this long (plus the endpoint's batching latencyMs) marks the
   * dataflow degraded (`KafkaNotAnswering`): a black-holed broker otherwise looks healthy for the producer's whole
   * retry budget (minutes).
   */
  stallAfterMs: number
  /** How often status counters are written back to the store. */
  statusIntervalMs: number
}

export const egressDefaults: EgressOptions = {
  bufferMessages: 10_000,
  bufferBytes: 64 * 1024 * 1024,
  retryMinMs: 200,
  retryMaxMs: 10_000,
  stallAfterMs: 10_000,
  statusIntervalMs: 2_000
}
