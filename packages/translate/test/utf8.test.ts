// mqttStringOf decides which keys and header values become MQTT text. Short ASCII is read without TextDecoder (the
// Kafka → MQTT flow's per-record path): the answer must be the same as the strict decoder's for any bytes.
import t from 'tap'
import fc from 'fast-check'
import { mqttStringOf } from '../src/utf8.js'

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
function reference (bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined
  try { return strict.decode(bytes) } catch { return undefined }
}

t.test('mqttStringOf equals a strict UTF-8 decode refusing U+0000, short and long, ASCII or not', async (t) => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 80 }).map((b) => b.map((x) => x & 0x7f)),
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => new TextEncoder().encode(s))
  )
  fc.assert(fc.property(bytes, (b) => mqttStringOf(b) === reference(b)), { numRuns: 20_000 })
  t.equal(mqttStringOf(new TextEncoder().encode('k1')), 'k1')
  t.equal(mqttStringOf(Uint8Array.of(0x6b, 0)), undefined, 'U+0000 refused')
  t.equal(mqttStringOf(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)), '\ufeffA', 'a BOM is kept, as the strict decoder keeps it')
})
