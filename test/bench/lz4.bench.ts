// `pnpm bench lz4` (issue 19): Flowgate's hand-written LZ4 frame codec (packages/kafka/src/lz4-frame.ts, a block
// compressor of our own over lz4js' block decoder) against lz4-napi (lz4_flex in Rust, prebuilt N-API binaries on
// npm), compressing and decompressing Kafka-sized record batches of JSON telemetry: 16 KiB (kafkajs' default
// batch.size) and 1 MiB (a large linger). Sync calls and the async ones (run on libuv's pool) as kafkajs awaits a
// codec. In process, no Kafka; alternating rounds, medians. Figures are batches per second and ratios against ours.
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Bench, Measurement } from './lib/types.js'
import { lz4Compress, lz4Decompress } from '../../packages/kafka/src/lz4-frame.js'

// lz4-napi is @flowgate/kafka's dependency, not this workspace's: resolve it from there.
const napi = createRequire(new URL('../../packages/kafka/package.json', import.meta.url))('lz4-napi') as {
  compressFrameSync: (data: Buffer) => Buffer
  decompressFrameSync: (data: Buffer) => Buffer
  compressFrame: (data: Uint8Array) => Promise<Buffer>
  decompressFrame: (data: Uint8Array) => Promise<Buffer>
}

const ROUNDS = Number(process.env.FLOWGATE_BENCH_ROUNDS ?? 7)
const MEASURE_MS = Number(process.env.FLOWGATE_BENCH_LZ4_MS ?? 200)
const SIZES = [16 << 10, 1 << 20]

/** Newline-separated JSON telemetry, as an MQTT → Kafka batch of device readings looks once framed. */
export function telemetry (bytes: number): Buffer {
  const lines: string[] = []
  let n = 0
  for (let i = 0; n < bytes; i++) {
    const line = JSON.stringify({
      deviceId: `plant-3/line-${i % 7}/sensor-${i % 97}`,
      ts: 1764900000000 + i * 137,
      temperature: Number((20 + Math.sin(i) * 5).toFixed(3)),
      humidity: Number((40 + Math.cos(i / 3) * 10).toFixed(2)),
      status: i % 13 === 0 ? 'warn' : 'ok',
      seq: i
    })
    lines.push(line)
    n += line.length + 1
  }
  return Buffer.from(lines.join('\n')).subarray(0, bytes)
}

/** Calls per second of `op` over MEASURE_MS; async ops are awaited one at a time, as kafkajs awaits its codec. */
async function rate (op: () => unknown, isAsync: boolean): Promise<number> {
  let count = 0
  const start = performance.now()
  const end = start + MEASURE_MS
  while (performance.now() < end) {
    if (isAsync) { for (let i = 0; i < 8; i++) await op() } else { for (let i = 0; i < 8; i++) op() }
    count += 8
  }
  return count / ((performance.now() - start) / 1000)
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const kib = (n: number): string => n >= 1 << 20 ? `${n >> 20} MiB` : `${n >> 10} KiB`

export const lz4Bench: Bench = {
  name: 'lz4',
  description: 'LZ4 frames for Kafka batches: the hand-written codec against lz4-napi (16 KiB and 1 MiB of JSON telemetry)',
  async run (log) {
    log(`${availableParallelism()} cores; ${ROUNDS} alternating rounds of ${MEASURE_MS} ms per configuration`)
    const notes: string[] = []
    const rows: Array<{ label: string, rates: number[], baseline?: string }> = []
    const configs: Array<{ label: string, baseline?: string, op: () => unknown }> = []
    for (const size of SIZES) {
      const data = telemetry(size)
      const ours = lz4Compress(data)
      const theirs = napi.compressFrameSync(data)
      // Interoperable both ways before anything is timed.
      if (!napi.decompressFrameSync(ours).equals(data) || !lz4Decompress(theirs).equals(data)) throw new Error(`lz4 bench: frames of ${kib(size)} do not round-trip across the codecs`)
      notes.push(`${kib(size)}: frame ${ours.length} B ours, ${theirs.length} B lz4-napi (${(theirs.length / ours.length).toFixed(2)}× the size; block size byte ${theirs[5]!.toString(16)} vs ${ours[5]!.toString(16)})`)
      const c = `ours compress ${kib(size)}`
      const d = `ours decompress ${kib(size)}`
      configs.push(
        { label: c, op: () => lz4Compress(data) },
        { label: `lz4-napi compressFrameSync ${kib(size)}`, baseline: c, op: () => napi.compressFrameSync(data) },
        { label: `lz4-napi compressFrame (async) ${kib(size)}`, baseline: c, op: async () => await napi.compressFrame(data) },
        { label: d, op: () => lz4Decompress(ours) },
        { label: `lz4-napi decompressFrameSync ${kib(size)}`, baseline: d, op: () => napi.decompressFrameSync(theirs) },
        { label: `lz4-napi decompressFrame (async) ${kib(size)}`, baseline: d, op: async () => await napi.decompressFrame(theirs) }
      )
    }
    for (const cfg of configs) { for (let i = 0; i < 50; i++) await cfg.op() } // warm up (JIT, the pool's threads)
    for (const cfg of configs) rows.push({ label: cfg.label, rates: [], baseline: cfg.baseline })
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < configs.length; i++) rows[i]!.rates.push(await rate(configs[i]!.op, configs[i]!.label.includes('(async)')))
      log(`round ${r + 1}/${ROUNDS} done`)
    }
    const byLabel = new Map(rows.map((row) => [row.label, median(row.rates)]))
    const measurements: Measurement[] = rows.map((row) => ({ label: row.label, messagesPerSecond: byLabel.get(row.label)! }))
    for (const row of rows) {
      if (row.baseline === undefined) continue
      notes.push(`${row.label}: ${(byLabel.get(row.label)! / byLabel.get(row.baseline)!).toFixed(2)}× ${row.baseline} (batches/s)`)
    }
    // The printed table's ratios are all against ours compressing 16 KiB; the notes hold the like-for-like ratios.
    return { baseline: measurements[0]!, candidates: measurements.slice(1), notes }
  }
}
