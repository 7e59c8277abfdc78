import t from 'tap'
import fc from 'fast-check'
import { Histogram, Registry } from 'prom-client'
import { LatencyHistogram, type HistogramSeries } from '../src/latency-histogram.js'

const buckets = [0.001, 0.005, 0.01, 0.1, 1]

t.test('exposes exactly what prom-client\'s own histogram exposes for the same observations', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.double({ min: 0, max: 5, noNaN: true })), { maxLength: 200 }), async (observations) => {
    const ours = new Registry()
    const theirs = new Registry()
    const fast = new LatencyHistogram('x_seconds', 'help', buckets, ours)
    const reference = new Histogram({ name: 'x_seconds', help: 'help', labelNames: ['dataflow'], buckets, registers: [theirs] })
    const bound = new Map<string, HistogramSeries>()
    for (const [dataflow, v] of observations) {
      if (!bound.has(dataflow)) bound.set(dataflow, fast.labels({ dataflow }))
      bound.get(dataflow)!.observe(v)
      reference.observe({ dataflow }, v)
    }
    const sorted = (text: string): string[] => text.split('\n').sort()
    return t.strictSame(sorted(await ours.metrics()), sorted(await theirs.metrics()))
  }), { numRuns: 50 })
})
