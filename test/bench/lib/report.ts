import { cpus, totalmem } from 'node:os'
import type { BenchResult, Measurement } from './types.js'

export function machineLine (): string {
  return `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`
}

function row (m: Measurement, baseline: Measurement): string {
  const ratio = m.messagesPerSecond / baseline.messagesPerSecond
  const extra = [m.p99Ms !== undefined ? `p99 ${m.p99Ms.toFixed(1)} ms` : '', m.rssMb !== undefined ? `RSS ${m.rssMb.toFixed(0)} MB` : ''].filter(Boolean).join(', ')
  return `  ${m.label.padEnd(48)} ${Math.round(m.messagesPerSecond).toLocaleString('en-US').padStart(10)} msg/s  ${ratio.toFixed(2)}× baseline${extra ? `  (${extra})` : ''}`
}

export function formatResult (name: string, result: BenchResult): string {
  return [
    `${name}:`,
    row(result.baseline, result.baseline) + '  [baseline]',
    ...result.candidates.map((c) => row(c, result.baseline)),
    ...(result.notes ?? []).map((n) => `  note: ${n}`)
  ].join('\n')
}
