/// <reference path="./snappyjs.d.ts" />
// The ambient declaration travels with this file: packages that type-check it through an import see it too.
import kafkajs from 'kafkajs'
import * as snappy from 'snappyjs'
import { compressFrameSync, decompressFrameSync } from 'lz4-napi'
import { useNativeCrc32C } from './crc32c.js'
import type { KafkaCompression } from './types.js'

// kafkajs is CommonJS and Node's named-export detection misses `CompressionCodecs`: take it from the default export.
const { CompressionCodecs, CompressionTypes } = kafkajs
type CompressionTypes = kafkajs.CompressionTypes

/*
 * Snappy and LZ4 for kafkajs: snappyjs for Snappy blocks (plain JavaScript) and lz4-napi for LZ4 frames (lz4_flex
 * in Rust, prebuilt N-API binaries from npm, as @node-rs/crc32 is for CRC-32C). Gzip is built into kafkajs; ZSTD is
 * not offered by the seed.
 */

/**
 * `data` as one LZ4 frame (issue 19: lz4-napi replaced a hand-written frame writer over lz4js' block decoder; `pnpm
 * bench lz4` at the commit that added it, 2 cores: compress 4.3–8.2× and decompress 2.9–4.6× the batches per second
 * of ours on 16 KiB and 1 MiB of JSON telemetry, frames 6–8 % smaller; test/bench/README.md has the runs). Kafka's flavour where it matters: version 01, independent
 * blocks, no checksums, no content size; the maximum block size grows with the input (64 KB up to 4 MB), which
 * every Kafka reader accepts (KafkaLZ4BlockInputStream takes block sizes 4–7; librdkafka uses liblz4).
 */
export function lz4Compress (data: Buffer): Buffer {
  return compressFrameSync(data)
}

/**
 * One LZ4 frame in any of liblz4's flavours (linked or independent blocks, any block size, checksums checked,
 * content size). Kafka clients write one frame per batch: lz4-napi reads only the first of concatenated frames, and
 * the batch's CRC-32C, not the frame, is what guards against a truncated payload.
 */
export function lz4Decompress (data: Buffer): Buffer {
  return decompressFrameSync(data)
}

// snappy-java's stream framing (what the Java producer writes): a 16-byte header, then [int32 BE length][block]…
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_CHUNK = 32 << 10

/** Snappy as the Java producer writes it (xerial framing, 32 KB chunks): what every Kafka reader accepts. */
export function snappyCompress (data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]
  for (let off = 0; off < data.length || off === 0; off += XERIAL_CHUNK) {
    const block = snappy.compress(data.subarray(off, off + XERIAL_CHUNK))
    const len = Buffer.alloc(4)
    len.writeUInt32BE(block.length, 0)
    parts.push(len, Buffer.from(block.buffer, block.byteOffset, block.byteLength))
    if (data.length === 0) break
  }
  return Buffer.concat(parts)
}

/** Either the xerial framing (Java, librdkafka) or one raw Snappy block (kafkajs-snappy, some other clients). */
export function snappyDecompress (data: Buffer): Buffer {
  if (data.length >= 16 && data.subarray(0, 8).equals(XERIAL_MAGIC)) {
    const parts: Buffer[] = []
    let off = 16
    while (off + 4 <= data.length) {
      const size = data.readUInt32BE(off)
      off += 4
      const block = snappy.uncompress(data.subarray(off, off + size))
      parts.push(Buffer.from(block.buffer, block.byteOffset, block.byteLength))
      off += size
    }
    return Buffer.concat(parts)
  }
  const out = snappy.uncompress(data)
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
}

interface Encoder { buffer: Buffer }

let registered = false

/** Registers the Snappy and LZ4 codecs with kafkajs (process-wide; idempotent). */
export function registerCodecs (): void {
  if (registered) return
  registered = true
  // The record batches' CRC-32C is kafkajs' other per-byte pass over every record: native where it can be.
  useNativeCrc32C()
  const codecs = CompressionCodecs as unknown as Record<number, () => { compress: (e: Encoder) => Promise<Buffer>, decompress: (b: Buffer) => Promise<Buffer> }>
  codecs[CompressionTypes.Snappy] = () => ({
    compress: async (encoder) => snappyCompress(encoder.buffer),
    decompress: async (buffer) => snappyDecompress(buffer)
  })
  codecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder) => lz4Compress(encoder.buffer),
    decompress: async (buffer) => lz4Decompress(buffer)
  })
}

/** The endpoint's `compression` as kafkajs' compression type (registering the codecs it needs). */
export function compressionType (compression: KafkaCompression): CompressionTypes {
  switch (compression) {
    case 'Gzip': return CompressionTypes.GZIP
    case 'Snappy': registerCodecs(); return CompressionTypes.Snappy
    case 'Lz4': registerCodecs(); return CompressionTypes.LZ4
    default: return CompressionTypes.None
  }
}
