import { createRequire } from 'node:module'
import { decompressBlock } from 'lz4js'

// lz4js' xxHash32 (not in its typings): the frame descriptor checksum.
const xxh32 = createRequire(import.meta.url)('lz4js/xxh32.js') as { hash: (seed: number, src: Uint8Array, index: number, length: number) => number }

/*
 * The LZ4 frame format as Kafka writes it (KafkaLZ4BlockOutputStream, magic v1+ / KIP-57): version 01, independent
 * blocks, no block or content checksum, no content size, 64 KB maximum block size. lz4js' own `compress` writes
 * dependent 4 MB blocks and does not keep LZ4's end-of-block rules (last match ≥ 12 bytes before the end), which
 * strict decoders (liblz4 in librdkafka, lz4-java in the broker) may refuse on a full block; so the block
 * compressor is written here and lz4js only decodes blocks.
 */

const MAGIC = 0x184d2204
const MIN_MATCH = 4
const MF_LIMIT = 12 // a match must start at least this many bytes before the block end
const LAST_LITERALS = 5 // the last 5 bytes are always literals
const MAX_OFFSET = 65535
const HASH_LOG = 14
const BLOCK_SIZES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 }
const BLOCK_MAX = 64 << 10

const hashTable = new Int32Array(1 << HASH_LOG)

function read32 (b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
}

function hash (seq: number): number {
  return Math.imul(seq, 2654435761) >>> (32 - HASH_LOG)
}

function writeLength (dst: Uint8Array, d: number, n: number): number {
  while (n >= 255) { dst[d++] = 255; n -= 255 }
  dst[d++] = n
  return d
}

/** One LZ4 block (greedy, hash of 4 bytes). Returns the compressed length, or 0 when it would not be smaller. */
export function compressBlock (src: Uint8Array, dst: Uint8Array): number {
  const n = src.length
  let d = 0
  let anchor = 0
  if (n >= MF_LIMIT + 1) {
    hashTable.fill(-1)
    const matchLimit = n - LAST_LITERALS
    const searchEnd = n - MF_LIMIT
    let s = 0
    let step = 1 << 6
    while (s < searchEnd) {
      const seq = read32(src, s)
      const h = hash(seq)
      const ref = hashTable[h]!
      hashTable[h] = s
      if (ref < 0 || s - ref > MAX_OFFSET || read32(src, ref) !== seq) {
        s += step++ >> 6 // speed up over incompressible data, as liblz4 does
        continue
      }
      step = 1 << 6
      // Extend the match backwards over pending literals, then forwards up to the last-literals limit.
      let m = ref
      while (s > anchor && m > 0 && src[s - 1] === src[m - 1]) { s--; m-- }
      let e = s + MIN_MATCH
      let me = m + MIN_MATCH
      while (e < matchLimit && src[e] === src[me]) { e++; me++ }
      const literals = s - anchor
      const matchLen = e - s - MIN_MATCH
      if (d + literals + ((literals / 255) | 0) + ((matchLen / 255) | 0) + 8 > dst.length) return 0
      const tokenAt = d++
      dst[tokenAt] = ((literals >= 15 ? 15 : literals) << 4) | (matchLen >= 15 ? 15 : matchLen)
      if (literals >= 15) d = writeLength(dst, d, literals - 15)
      dst.set(src.subarray(anchor, s), d); d += literals
      const offset = s - m
      dst[d++] = offset & 0xff
      dst[d++] = offset >> 8
      if (matchLen >= 15) d = writeLength(dst, d, matchLen - 15)
      anchor = s = e
      if (s < searchEnd) hashTable[hash(read32(src, s - 2))] = s - 2
    }
  }
  const literals = n - anchor
  if (d + literals + ((literals / 255) | 0) + 2 >= n) return 0
  dst[d++] = (literals >= 15 ? 15 : literals) << 4
  if (literals >= 15) d = writeLength(dst, d, literals - 15)
  dst.set(src.subarray(anchor), d)
  return d + literals
}

/** `data` as one LZ4 frame in Kafka's flavour. */
export function lz4Compress (data: Uint8Array): Buffer {
  const chunks: Buffer[] = []
  const header = Buffer.alloc(7)
  header.writeUInt32LE(MAGIC, 0)
  header[4] = 0x60 // version 01, block independence
  header[5] = 4 << 4 // 64 KB blocks
  header[6] = (xxh32.hash(0, header, 4, 2) >>> 8) & 0xff
  chunks.push(header)
  const scratch = Buffer.allocUnsafe(BLOCK_MAX)
  for (let off = 0; off < data.length; off += BLOCK_MAX) {
    const block = data.subarray(off, Math.min(off + BLOCK_MAX, data.length))
    const size = compressBlock(block, scratch)
    const len = Buffer.alloc(4)
    if (size > 0) {
      len.writeUInt32LE(size, 0)
      chunks.push(len, Buffer.from(scratch.subarray(0, size)))
    } else {
      len.writeUInt32LE((block.length | 0x80000000) >>> 0, 0) // stored uncompressed
      chunks.push(len, Buffer.from(block))
    }
  }
  chunks.push(Buffer.alloc(4)) // end mark
  return Buffer.concat(chunks)
}

/** Any LZ4 frame(s): every flag combination and block size liblz4 writes (checksums are skipped, not checked). */
export function lz4Decompress (src: Uint8Array): Buffer {
  const out: Buffer[] = []
  let s = 0
  while (s + 4 <= src.length) {
    const magic = read32(src, s)
    if ((magic & 0xfffffff0) === 0x184d2a50) { s += 8 + read32(src, s + 4); continue } // skippable frame
    if (magic !== MAGIC) throw new Error('LZ4: bad frame magic')
    const flg = src[s + 4]!
    const bd = src[s + 5]!
    if ((flg >> 6) !== 1) throw new Error('LZ4: unsupported frame version')
    const blockMax = BLOCK_SIZES[(bd >> 4) & 7]
    if (blockMax == null) throw new Error('LZ4: bad block size')
    const blockChecksum = (flg & 0x10) !== 0
    const contentSize = (flg & 0x08) !== 0
    const contentChecksum = (flg & 0x04) !== 0
    const dictId = (flg & 0x01) !== 0
    s += 6 + (contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1
    const dependent = (flg & 0x20) === 0
    // Dependent blocks may refer back into earlier blocks of the frame: decode the frame into one window.
    let window = Buffer.allocUnsafe(blockMax)
    let w = 0
    for (;;) {
      if (s + 4 > src.length) throw new Error('LZ4: truncated frame')
      const raw = read32(src, s); s += 4
      if (raw === 0) break
      const size = raw & 0x7fffffff
      if (s + size > src.length) throw new Error('LZ4: truncated block')
      const start = dependent ? w : 0
      if (!dependent) w = 0
      if (w + blockMax > window.length) {
        const grown = Buffer.allocUnsafe(Math.max(window.length * 2, w + blockMax))
        window.copy(grown, 0, 0, w)
        window = grown
      }
      if ((raw & 0x80000000) !== 0) {
        window.set(src.subarray(s, s + size), w)
        w += size
      } else {
        w = decompressBlock(src, window, s, size, w)
      }
      s += size + (blockChecksum ? 4 : 0)
      if (!dependent) out.push(Buffer.from(window.subarray(start, w)))
    }
    if (dependent) out.push(Buffer.from(window.subarray(0, w)))
    s += contentChecksum ? 4 : 0
  }
  return Buffer.concat(out)
}
