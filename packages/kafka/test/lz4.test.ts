import t from 'tap'
import { lz4Compress, lz4Decompress } from '../src/codecs.js'
import { telemetry } from './lz4-telemetry.js'

// The LZ4 frame header lz4-napi writes, at every batch size a producer may hand it: what Kafka's readers require
// (KafkaLZ4BlockInputStream: version 01, block size 4–7, reserved bits 0; independent blocks as Kafka writes them).
// liblz4 interop is in codecs.test.ts; the broker, kcat and kafkajs reading our batches in compression.test.ts.

t.test('LZ4 frames stay in Kafka\'s flavour at every batch size (block size grows with the input)', async (t) => {
  for (const size of [0, 1, 1000, 16 << 10, 64 << 10, (64 << 10) + 1, 200_000, 1 << 20, 5 << 20]) {
    const data = telemetry(size)
    const frame = lz4Compress(data)
    t.equal(frame.readUInt32LE(0), 0x184d2204, `${size} B: LZ4 frame magic`)
    t.equal(frame[4], 0x60, `${size} B: version 01, independent blocks, no checksums, no content size`)
    const bd = frame[5]!
    t.ok((bd & 0x8f) === 0 && ((bd >> 4) & 7) >= 4, `${size} B: block size byte ${bd.toString(16)} is one of 64 KB–4 MB`)
    t.equal(frame.readUInt32LE(frame.length - 4), 0, `${size} B: ends with the end mark (no content checksum)`)
    t.ok(lz4Decompress(frame).equals(data), `${size} B: round trip`)
    if (size >= 16 << 10) t.ok(frame.length < data.length / 2, `${size} B: telemetry compresses`)
  }
})

t.test('LZ4: not a frame is an error, not an empty batch', async (t) => {
  t.throws(() => lz4Decompress(Buffer.from('not an lz4 frame at all')))
})
