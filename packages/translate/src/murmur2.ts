/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) and the Java producer's choice of partition for a
 * keyed record (BuiltInPartitioner.partitionForKey: `toPositive(murmur2(key)) % partitions`), so a key lands where
 * a Java producer would put it (DESIGN §6).
 *
 * Ported rather than imported: kafkajs' murmur2.js is CommonJS and calls `Buffer`, which edge runtimes lack. `Math.imul`
 * is Java's 32-bit `int` multiplication. The test suite cross-checks this port against kafkajs' DefaultPartitioner
 * and against vectors produced by Kafka's own jars (test/fixtures/Murmur2Vectors.java).
 */

const SEED = 0x9747b28c | 0
const M = 0x5bd1e995
const R = 24

/** Java's `Utils.murmur2(byte[])`: a signed 32-bit hash. */
export function murmur2 (data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  // Java's switch falls through 3 → 2 → 1; written out, since this codebase forbids fall-through.
  const tail = length & ~3
  const rest = length % 4
  if (rest >= 3) h ^= data[tail + 2]! << 16
  if (rest >= 2) h ^= data[tail + 1]! << 8
  if (rest >= 1) {
    h ^= data[tail]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Java's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which would differ for negative hashes). */
export function toPositive (n: number): number {
  return n & 0x7fffffff
}

/** The partition the Java client (and kafkajs' DefaultPartitioner) picks for `key` among `partitionCount` partitions. */
export function javaCompatiblePartition (key: Uint8Array, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`)
  return toPositive(murmur2(key)) % partitionCount
}
