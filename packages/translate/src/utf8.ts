/** UTF-8 with the Web `TextEncoder`/`TextDecoder` (no `Buffer`): runs in Node and in edge runtimes alike. */

const encoder = new TextEncoder()
// fatal: a malformed sequence is an error, not U+FFFD (the seed drops non-UTF-8 headers, it doesn't repair them).
// ignoreBOM: keep a leading U+FEFF, so text → bytes → text is exact.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The largest MQTT UTF-8 string or binary data: a two-byte length prefix (MQTT 5 §1.5.4, §1.5.6). */
export const MQTT_STRING_MAX_BYTES = 65_535

export function utf8Encode (s: string): Uint8Array {
  return encoder.encode(s)
}

/** The text of well-formed UTF-8 bytes, or `undefined`. */
export function utf8Decode (bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * The text of bytes an MQTT 5 string may carry: well-formed UTF-8 without U+0000 (MQTT 5 §1.5.4: "MUST NOT include an
 * encoding of the null character"; a broker disconnects a client that sends one), or `undefined`.
 */
export function mqttStringOf (bytes: Uint8Array): string | undefined {
  // Keys and header values are mostly short ASCII: read as char codes, without a TextDecoder call per value.
  if (bytes.length <= SHORT_ASCII) {
    let ascii = true
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!
      if (b === 0) return undefined
      if (b > 0x7f) { ascii = false; break }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[])
  }
  if (bytes.includes(0)) return undefined
  return utf8Decode(bytes)
}

const SHORT_ASCII = 64

/** Whether a JS string is one MQTT may carry: no lone surrogate (they have no UTF-8 form) and no U+0000. */
export function isMqttString (s: string): boolean {
  // `isWellFormed` is ES2024; a lone surrogate is what it rejects.
  return !s.includes('\u0000') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)
}
