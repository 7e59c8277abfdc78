/**
 * A small pure base64 codec (RFC 4648 §4, with padding): the translator's JSON carries bytes this way, and neither
 * `Buffer` (Node only) nor `atob`/`btoa` (binary strings, slow on large payloads) is needed.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const LOOKUP = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i

/** The strict form `base64Decode` accepts, for JSON Schemas. */
export const BASE64_PATTERN = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$'

export function base64Encode (bytes: Uint8Array): string {
  const parts: string[] = []
  let chunk = ''
  const n = bytes.length
  for (let i = 0; i < n; i += 3) {
    const b0 = bytes[i]!
    const b1 = i + 1 < n ? bytes[i + 1]! : 0
    const b2 = i + 2 < n ? bytes[i + 2]! : 0
    chunk += ALPHABET[b0 >> 2]! + ALPHABET[((b0 & 3) << 4) | (b1 >> 4)]! +
      (i + 1 < n ? ALPHABET[((b1 & 15) << 2) | (b2 >> 6)]! : '=') +
      (i + 2 < n ? ALPHABET[b2 & 63]! : '=')
    if (chunk.length >= 8192) { parts.push(chunk); chunk = '' }
  }
  parts.push(chunk)
  return parts.join('')
}

/** The bytes of padded base64 text, or `undefined` when it isn't (wrong length, character or padding). */
export function base64Decode (text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined
  let pad = 0
  if (text.endsWith('==')) pad = 2
  else if (text.endsWith('=')) pad = 1
  const out = new Uint8Array((text.length / 4) * 3 - pad)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length
    const c0 = sextet(text, i)
    const c1 = sextet(text, i + 1)
    const c2 = last && pad === 2 ? 0 : sextet(text, i + 2)
    const c3 = last && pad >= 1 ? 0 : sextet(text, i + 3)
    if (c0 < 0 || c1 < 0 || c2 < 0 || c3 < 0) return undefined
    const v = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3
    out[o++] = v >> 16
    if (o < out.length) out[o++] = (v >> 8) & 255
    if (o < out.length) out[o++] = v & 255
  }
  return out
}

function sextet (text: string, i: number): number {
  const c = text.charCodeAt(i)
  return c < 128 ? LOOKUP[c]! : -1
}
