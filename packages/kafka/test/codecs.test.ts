import t from 'tap'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '../src/codecs.js'

// Pure codec checks: our LZ4 frames against the reference `lz4` tool (liblz4, Debian's package, what librdkafka
// links), and Snappy round trips. The broker-side proof (Kafka accepts, kcat and kafkajs read back) is in
// compression.test.ts.

function samples (): Buffer[] {
  const out = [
    Buffer.alloc(0), Buffer.from('a'), Buffer.from('hello hello hello hello hello'),
    Buffer.alloc(65536, 7), // exactly one full block: LZ4's end-of-block rules matter here
    Buffer.concat([randomBytes(65524), Buffer.from('abcdabcdabcd')]),
    randomBytes(70_000), Buffer.from('x'.repeat(300_000)),
    Buffer.from(JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ i, name: 'temperature', value: i * 1.5 }))))
  ]
  for (let k = 0; k < 30; k++) {
    const parts: Buffer[] = []
    for (let j = 0; j < 20; j++) parts.push(j % 2 === 0 ? randomBytes(k * 3 % 50) : Buffer.from('pattern-'.repeat(k % 20)))
    out.push(Buffer.concat(parts))
  }
  return out
}

const hasLz4Tool = (() => { try { execFileSync('lz4', ['--version'], { stdio: 'ignore' }); return true } catch { return false } })()

t.test('LZ4 frames we write are read by liblz4 and ours read liblz4\'s (both block modes)', { skip: hasLz4Tool ? false : 'the lz4 tool (Debian package lz4) is not installed' }, async (t) => {
  for (const data of samples()) {
    const frame = lz4Compress(data)
    t.ok(lz4Decompress(frame).equals(data), `round trip of ${data.length} bytes`)
    t.ok(execFileSync('lz4', ['-d', '-c'], { input: frame, maxBuffer: 1e8 }).equals(data), `liblz4 reads our ${data.length} bytes`)
    const independent = execFileSync('lz4', ['-c', '-B4', '-q'], { input: data, maxBuffer: 1e8 })
    t.ok(lz4Decompress(independent).equals(data), 'we read liblz4\'s independent 64 KB blocks')
    const dependent = execFileSync('lz4', ['-c', '-BD', '-B7', '--content-size', '-q'], { input: data, maxBuffer: 1e8 })
    t.ok(lz4Decompress(dependent).equals(data), 'we read liblz4\'s linked 4 MB blocks with content size and checksum')
  }
})

t.test('LZ4 frames use Kafka\'s flavour: independent 64 KB blocks, no checksums', async (t) => {
  const frame = lz4Compress(Buffer.from('kafka'.repeat(100)))
  t.equal(frame.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic')
  t.equal(frame[4], 0x60, 'version 01, independent blocks, no checksums, no content size')
  t.equal(frame[5], 0x40, '64 KB maximum block size')
  t.ok(frame.length < 100, 'compresses')
})

t.test('Snappy round trips in xerial framing and reads raw Snappy blocks', async (t) => {
  const snappy = await import('snappyjs')
  for (const data of samples()) {
    const framed = snappyCompress(data)
    t.same(framed.subarray(0, 8), Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0]), 'xerial magic')
    t.ok(snappyDecompress(framed).equals(data), `framed round trip of ${data.length} bytes`)
    if (data.length > 0) t.ok(snappyDecompress(Buffer.from(snappy.compress(data))).equals(data), 'raw block')
  }
})
