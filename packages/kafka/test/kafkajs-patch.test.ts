// patches/kafkajs@2.2.4.patch rewrites how kafkajs encodes record batches (see patches/README.md). Every Kafka test
// already produces through it and the broker checks each batch's CRC; these tests pin the encoding down without a
// broker: what the patched encoder writes, kafkajs' decoder reads back field for field, and the
// CRC-32C equals a bit-by-bit reference. The patched record decoder (numbers instead of Longs, in-place records) is
// checked against values computed with BigInt, across the 2^53 boundary where it falls back to Longs.
import { createRequire } from 'node:module'
import t from 'tap'
import fc from 'fast-check'
import { useNativeCrc32C } from '../src/crc32c.js'

const require = createRequire(import.meta.url)
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => unknown
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (b: object) => Promise<{ buffer: Buffer }> }
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{ firstOffset: string, records: Array<{ key: Buffer | null, value: Buffer | null, headers: Record<string, Buffer | Buffer[]>, offset: string, timestamp: string }> }>
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as ((b: Buffer) => number) & { javascript: (b: Buffer) => number }

/** CRC-32C (Castagnoli, reflected 0x82F63B78) one bit at a time: slow and obviously right. */
function referenceCrc32C (bytes: Buffer): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1))
  }
  return (crc ^ 0xffffffff) >>> 0
}

t.test('CRC-32C in JavaScript equals the bitwise definition, at every length and alignment', async (t) => {
  t.equal(crc32C.javascript(Buffer.from('123456789')), 0xe3069283, 'the standard check value')
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(7), (bytes, skip) => {
    const view = Buffer.from(bytes).subarray(Math.min(skip, bytes.length))
    return crc32C.javascript(view) === referenceCrc32C(view)
  }), { numRuns: 2000 })
})

t.test('the native CRC-32C is what kafkajs uses here, and equals the bitwise definition', async (t) => {
  t.teardown(() => (crc32C as unknown as { setImplementation: () => void }).setImplementation())
  t.equal(useNativeCrc32C(), 'native', '@node-rs/crc32 loaded on this platform')
  t.equal(crc32C(Buffer.from('123456789')), 0xe3069283)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(7), (bytes, skip) => {
    const view = Buffer.from(bytes).subarray(Math.min(skip, bytes.length))
    return crc32C(view) === referenceCrc32C(view)
  }), { numRuns: 2000 })
})

const header = fc.tuple(fc.constantFrom('a', 'b', 'ü-name'), fc.uint8Array({ maxLength: 70 }))
const message = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 3000 }), { nil: null }),
  headers: fc.array(header, { maxLength: 4 }),
  timestampDelta: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(2 ** 31, 2 ** 40))
})

t.test('a batch the patched encoder writes decodes to the same records, uncompressed and gzip', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 40 }), fc.constantFrom(0, 1), async (messages, compression) => {
    const records = messages.map((m, i) => {
      const headers: Record<string, Buffer[]> = {}
      for (const [name, value] of m.headers) (headers[name] ??= []).push(Buffer.from(value))
      return Record({ offsetDelta: i, timestampDelta: m.timestampDelta, key: m.key && Buffer.from(m.key), value: m.value && Buffer.from(m.value), headers })
    })
    const encoded = await RecordBatch({ compression, records, firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_000, lastOffsetDelta: records.length - 1 })
    const bytes = encoded.buffer
    // The CRC covers everything after it (attributes onwards): check it as the broker does.
    if (bytes.readUInt32BE(17) !== referenceCrc32C(bytes.subarray(21))) return false
    if (bytes.readInt32BE(8) !== bytes.length - 12) return false
    const decoded = await decodeBatch(new Decoder(bytes))
    return decoded.records.length === messages.length && decoded.records.every((r, i) => {
      const m = messages[i]!
      const same = (a: Buffer | null, b: Uint8Array | null): boolean => a === null ? b === null : b !== null && a.equals(b)
      const headerPairs = Object.entries(r.headers).flatMap(([name, v]) => (Array.isArray(v) ? v : [v]).map((x) => [name, x] as const))
      const expected = [...m.headers].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
      const actual = [...headerPairs].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
      return same(r.key, m.key) && same(r.value, m.value) && r.offset === String(i) &&
        Number(r.timestamp) === 1_700_000_000_000 + m.timestampDelta &&
        actual.length === expected.length && actual.every(([n, v], k) => n === expected[k]![0] && v.equals(expected[k]![1]))
    })
  }), { numRuns: 150 })
  t.pass('150 random batches round-tripped')
})

const Long = require('kafkajs/src/utils/long') as { fromValue: (v: bigint | number | string) => unknown }
const exactRecord = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null }),
  // Names a plain object already answers to ("constructor", "__proto__") and repeats: kept as sent, in order.
  headers: fc.array(fc.tuple(fc.constantFrom('a', 'constructor', '__proto__', 'toString'), fc.uint8Array({ maxLength: 8 })), { maxLength: 5 }),
  // Deltas whose varlong takes 1–10 bytes: the fast path reads up to 7 (49 bits), beyond that the Long path.
  timestampDelta: fc.oneof(fc.integer({ min: -5000, max: 5000 }), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }))
})

t.test('the patched record decoder gives the exact offsets, timestamps and headers, on both sides of 2^53', async (t) => {
  const base = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.bigInt({ min: 2n ** 53n - 100n, max: 2n ** 53n + 100n }), fc.bigInt({ min: 2n ** 62n, max: 2n ** 63n - 2n ** 40n }))
  await fc.assert(fc.asyncProperty(fc.array(exactRecord, { minLength: 1, maxLength: 30 }), base, base, async (messages, firstOffset, firstTimestamp) => {
    const records = messages.map((m, i) => {
      const headers: Record<string, Buffer[]> = Object.create(null) as Record<string, Buffer[]>
      for (const [name, value] of m.headers) (headers[name] ??= []).push(Buffer.from(value))
      return Record({ offsetDelta: i, timestampDelta: Long.fromValue(m.timestampDelta), key: m.key && Buffer.from(m.key), value: m.value && Buffer.from(m.value), headers })
    })
    const encoded = await RecordBatch({ compression: 0, records, firstOffset: Long.fromValue(firstOffset), firstTimestamp: Long.fromValue(firstTimestamp), maxTimestamp: Long.fromValue(firstTimestamp), lastOffsetDelta: records.length - 1 })
    const decoded = await decodeBatch(new Decoder(encoded.buffer))
    return decoded.records.length === messages.length && decoded.records.every((r, i) => {
      const m = messages[i]!
      const expectedHeaders = new Map<string, Buffer[]>()
      for (const [name, value] of m.headers) expectedHeaders.set(name, [...(expectedHeaders.get(name) ?? []), Buffer.from(value)])
      const names = Object.keys(r.headers)
      return r.offset === (firstOffset + BigInt(i)).toString() &&
        r.timestamp === (firstTimestamp + BigInt(m.timestampDelta)).toString() &&
        (r.key === null ? m.key === null : m.key !== null && r.key.equals(m.key)) &&
        (r.value === null ? m.value === null : m.value !== null && r.value.equals(m.value)) &&
        Object.getPrototypeOf(r.headers) === Object.prototype &&
        names.length === expectedHeaders.size && names.every((name) => {
          const got = r.headers[name]!
          const want = expectedHeaders.get(name)!
          const list = Array.isArray(got) ? got : [got]
          return Object.hasOwn(r.headers, name) && (want.length > 1) === Array.isArray(got) && list.length === want.length && list.every((b, k) => b.equals(want[k]!))
        })
    })
  }), { numRuns: 400 })
  t.pass('400 random batches decoded exactly')
})
