// `pnpm bench lz4` (issue 19): what each Kafka `compression` costs per record batch, in process and without Kafka.
// LZ4 frames through lz4-napi (lz4_flex in Rust, prebuilt N-API binaries from npm: what `compression: Lz4` runs)
// against Snappy through snappyjs in xerial framing (the baseline: the other codec Flowgate registers with kafkajs)
// and Gzip through node:zlib (kafkajs' own). Batches of JSON telemetry: 16 KiB (kafkajs' default batch size) and
// 1 MiB (a long linger). Alternating rounds, medians; figures are batches per second and ratios.
//
// lz4-napi replaced a hand-written frame codec (packages/kafka/src/lz4-frame.ts over lz4js). This bench at commit
// f0b6869 measured the two against each other: lz4-napi compressed 4.3–8.2× and decompressed 2.9–4.6× as many
// batches per second, frames 6–8 % smaller (test/bench/README.md, "lz4").
import { availableParallelism } from 'node:os'
import { performance } from 'node:perf_hooks'
import { gunzipSync, gzipSync } from 'node:zlib'
import type { Bench, Measurement } from './lib/types.js'
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '../../packages/kafka/src/codecs.js'
import { telemetry } from '../../packages/kafka/test/lz4-telemetry.js'

const ROUNDS = Number(process.env.FLOWGATE_BENCH_ROUNDS ?? 7)
const MEASURE_MS = Number(process.env.FLOWGATE_BENCH_LZ4_MS ?? 150)
const SIZES = [16 << 10, 1 << 20]

/** Calls per second of `op` over MEASURE_MS. */
function rate (op: () => unknown): number {
  let count = 0
  const start = performance.now()
  const end = start + MEASURE_MS
  while (performance.now() < end) {
    for (let i = 0; i < 8; i++) op()
    count += 8
  }
  return count / ((performance.now() - start) / 1000)
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const kib = (n: number): string => n >= 1 << 20 ? `${n >> 20} MiB` : `${n >> 10} KiB`

export const lz4Bench: Bench = {
  name: 'lz4',
  description: 'Kafka batch codecs in process: LZ4 (lz4-napi) and Gzip against Snappy (snappyjs), 16 KiB and 1 MiB of JSON telemetry',
  async run (log) {
    log(`${availableParallelism()} cores; ${ROUNDS} alternating rounds of ${MEASURE_MS} ms per configuration`)
    const notes: string[] = []
    const configs: Array<{ label: string, baseline?: string, op: () => unknown, rates: number[] }> = []
    for (const size of SIZES) {
      const data = telemetry(size)
      const frames = { snappy: snappyCompress(data), lz4: lz4Compress(data), gzip: gzipSync(data) }
      if (!lz4Decompress(frames.lz4).equals(data) || !snappyDecompress(frames.snappy).equals(data)) throw new Error(`lz4 bench: ${kib(size)} does not round-trip`)
      notes.push(`${kib(size)} compressed: Snappy ${frames.snappy.length} B, LZ4 ${frames.lz4.length} B, Gzip ${frames.gzip.length} B`)
      const c = `Snappy compress ${kib(size)}`
      const d = `Snappy decompress ${kib(size)}`
      configs.push(
        { label: c, op: () => snappyCompress(data), rates: [] },
        { label: `LZ4 compress ${kib(size)}`, baseline: c, op: () => lz4Compress(data), rates: [] },
        { label: `Gzip compress ${kib(size)}`, baseline: c, op: () => gzipSync(data), rates: [] },
        { label: d, op: () => snappyDecompress(frames.snappy), rates: [] },
        { label: `LZ4 decompress ${kib(size)}`, baseline: d, op: () => lz4Decompress(frames.lz4), rates: [] },
        { label: `Gzip decompress ${kib(size)}`, baseline: d, op: () => gunzipSync(frames.gzip), rates: [] }
      )
    }
    for (const cfg of configs) { for (let i = 0; i < 30; i++) cfg.op() } // warm up
    for (let r = 0; r < ROUNDS; r++) {
      for (const cfg of configs) cfg.rates.push(rate(cfg.op))
      log(`round ${r + 1}/${ROUNDS} done`)
    }
    const byLabel = new Map(configs.map((cfg) => [cfg.label, median(cfg.rates)]))
    const measurements: Measurement[] = configs.map((cfg) => ({ label: cfg.label, messagesPerSecond: byLabel.get(cfg.label)! }))
    for (const cfg of configs) {
      if (cfg.baseline !== undefined) notes.push(`${cfg.label}: ${(byLabel.get(cfg.label)! / byLabel.get(cfg.baseline)!).toFixed(2)}× ${cfg.baseline} (batches/s)`)
    }
    // The table's ratios are all against Snappy compressing 16 KiB; the notes hold the like-for-like ones.
    return { baseline: measurements[0]!, candidates: measurements.slice(1), notes }
  }
}
