/**
 * Message Expiry Interval across the dataflow (seed "The Message Expiry Interval property"; MQTT 5 §3.3.2.3.3):
 * the interval leaves reduced by the time the message waited, and a message whose remainder is ≤ 0 is not emitted.
 *
 * Rounding: the time waited counts in whole seconds, rounded down — `remaining = interval − floor(waitedMs / 1000)`.
 * That is the seed's arithmetic on its examples (3600 s after 1000 s → 2600; after 4000 s → dropped), never drops
 * a message before its interval has fully elapsed, and gives at most one second of grace (mosquitto also keeps
 * expiry in whole seconds). A clock that went backwards (`now < receivedAt`) counts as no wait.
 */

export type Expiry =
  | { expired: false, remaining: number | undefined }
  | { expired: true, remaining: number, waitedSeconds: number }

const NEVER: Expiry = Object.freeze({ expired: false, remaining: undefined })

/** `interval` absent: the message never expires (`remaining` undefined). */
export function remainingExpiry (interval: number | undefined, receivedAt: number | undefined, now: number): Expiry {
  if (interval === undefined) return NEVER
  const waitedMs = receivedAt === undefined ? 0 : Math.max(0, now - receivedAt)
  const waitedSeconds = Math.floor(waitedMs / 1000)
  const remaining = interval - waitedSeconds
  // The seed: "If the message has expired (the operation above is <= 0), then the message isn't emitted".
  // An interval of 0 sent as such is therefore already expired.
  if (remaining <= 0) return { expired: true, remaining, waitedSeconds }
  return { expired: false, remaining }
}
