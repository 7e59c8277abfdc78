/** Tunables of @flowgate/kafka with their defaults (the endpoint resource carries the user-facing settings). */

export const defaults = {
  /** kafkajs connection and request timeouts (ms). */
  connectionTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  /**
   * kafkajs' own retries for one send. Bounded even for the idempotent producer (kafkajs defaults to infinite
   * there): a send must settle so the caller's buffer can take over, and a missing topic must fail in seconds.
   */
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  /** Admin/metadata look-ups (topic existence, partition count, max.message.bytes). */
  metadataRetry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
  /** How long a topic's partition count and size limit are trusted before being read again. */
  topicMetadataTtlMs: 60_000,
  /** Kafka's default `max.message.bytes` when the topic's config can't be read (Event Hubs allows 1 MB). */
  defaultMaxMessageBytes: 1_048_588,
  /**
   * kafkajs re-authenticates (KIP-368) before a request once the session has less than this left. Measured on Kafka
   * 4.3: when the broker's session lifetime (connections.max.reauth.ms, or an OAUTHBEARER token's remaining life)
   * is shorter than this threshold, kafkajs re-authenticates before *every* request, twice in a row, and the broker
   * refuses the second with ILLEGAL_SASL_STATE: no request ever gets through. kafkajs' default is 10 s; 1 s keeps
   * short sessions (and short-lived tokens) working, and a lapsed session is re-authenticated on the next request.
   */
  reauthenticationThresholdMs: 1_000,
  /** Idempotent producers: kafkajs serialises per broker anyway; at most 5 in flight keeps ordering under retries. */
  maxInFlightRequests: 5,
  /** OAUTHBEARER token cache: refresh at this share of the token's lifetime … */
  tokenRefreshRatio: 0.8,
  /** … or this long before it expires when that comes sooner (never before half its lifetime). */
  tokenRefreshMarginMs: 5 * 60_000
} as const

export type KafkaRetry = { retries: number, initialRetryTime: number, maxRetryTime: number }
