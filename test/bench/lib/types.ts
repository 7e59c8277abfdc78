/** One measured configuration: a rate and, where measured, a latency tail and memory. */
export interface Measurement {
  label: string
  messagesPerSecond: number
  p99Ms?: number
  rssMb?: number
}

export interface BenchResult {
  /** The configuration everything else in this bench is compared against, measured in the same run. */
  baseline: Measurement
  candidates: Measurement[]
  notes?: string[]
}

export interface Bench {
  name: string
  description: string
  run: (log: (line: string) => void) => Promise<BenchResult>
}
