// What `pnpm bench fanout` puts on the wire: the payload of every record or message and the clock it stamps (the same
// bytes go through Kafka and the flow, or straight to aedes, so a subscriber reads its send time and sequence number
// either way), and the two MQTT field encoders its raw clients share.
//
// Layout (ASCII, so the flow's translation has nothing to reinterpret): bytes 0–19 the send time in ms with µs
// digits, bytes 20–30 the sequence number within its source topic (−1 for a priming message), then padding.

/** Bytes per payload: the size the other Kafka → MQTT benches use. */
export const PAYLOAD_BYTES = 256
/** The sequence number of the messages that open the path before the clock starts (not counted as deliveries). */
export const PRIME = -1

/**
 * Milliseconds on CLOCK_MONOTONIC (process.hrtime), one clock for every process on this machine, to the µs.
 * Date.now(), which the other benches stamp, has 1 ms steps, coarser than aedes' delivery p50; and
 * performance.timeOrigin + now() was found to differ between processes by 1–2 ms here, so it cannot compare a send in
 * one process with a receipt in another.
 */
export function clockMs (): number {
  return Number(process.hrtime.bigint()) / 1e6
}

export function encodePayload (sentAt: number, seq: number): Buffer {
  const out = Buffer.alloc(PAYLOAD_BYTES, 'x')
  out.write(sentAt.toFixed(3).padStart(20, ' '), 0, 'latin1')
  out.write(String(seq).padStart(11, ' '), 20, 'latin1')
  return out
}

/** The send time and sequence number of a payload; NaN when it is not one of ours. */
export function decodePayload (payload: Buffer): { sentAt: number, seq: number } {
  if (payload.length < 31) return { sentAt: NaN, seq: NaN }
  return { sentAt: Number(payload.toString('latin1', 0, 20)), seq: Number(payload.toString('latin1', 20, 31)) }
}

/** MQTT's variable-length integer. */
export function varint (n: number): Buffer {
  const out: number[] = []
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b) } while (n > 0)
  return Buffer.from(out)
}

/** MQTT's length-prefixed UTF-8 string. */
export function str (s: string): Buffer { const b = Buffer.from(s); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]) }
