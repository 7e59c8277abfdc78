/**
 * What the runtime needs from the packages around it, as small interfaces: the flow logic is tested with fakes,
 * and `wiring.ts` binds these to @flowgate/translate and @flowgate/kafka.
 */
import type { ReceivedMessage } from '@flowgate/mqtt'

/**
 * A device's publish as a flow takes it: the shape @flowgate/mqtt's network subscriber hands on, and the one the
 * embedded broker's interceptor builds in process.
 */
export type InboundMqttMessage = ReceivedMessage

export interface OutboundRecord {
  topic: string
  key: Uint8Array | null
  value: Uint8Array
  headers: Array<[string, Uint8Array]>
  partition?: number
}

export type Translation =
  | { ok: true, record: OutboundRecord }
  | { ok: false, reason: string, detail?: string }

/**
 * Translation at send time: `now` lets Message Expiry shrink by the time a message waited. In process it answers at
 * once; the split deployment's remote translator answers with a promise (a batched HTTP call).
 */
export type TranslateToKafka = (message: InboundMqttMessage, now: number) => Translation | Promise<Translation>

/** A failure the destination reports; `permanent` ones will never succeed on retry (too large, not authorized…). */
export interface DestinationError extends Error {
  code: string
  permanent: boolean
}

/** Where a record landed; `offset` is null when the broker does not answer (acks Zero). */
export interface SendResult { partition: number, offset: string | null }

export interface KafkaDestination {
  /**
   * Calls back once with where the record landed, or with why not. A callback, not a promise: the flow sends one
   * record per device publish, and a promise per record showed in profiles.
   */
  send: (record: OutboundRecord, done: (err: DestinationError | null, result?: SendResult) => void) => void
  /** Connects ahead of the first record, so a bad credential or an unreachable broker shows in the status at once. */
  connect?: () => Promise<void>
  close: () => Promise<void>
}
