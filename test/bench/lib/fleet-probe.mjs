// Preloaded (`node --import`) into the broker process the fleet bench measures — aedes alone or `flowgate start` —
// when FLOWGATE_FLEET_PROBE_OUT names a file. Plain JavaScript, so it loads before tsx. On each SIGUSR2 it writes
// what the process' own event loop saw since the previous SIGUSR2 (the bench sends one as the measured window opens
// and one as it closes) and starts over:
// - event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution; its samples are whole timer intervals, so
//   the resolution is taken off): p50 / p99 / p99.9 / max, ms;
// - event-loop utilisation;
// - GC: pauses by kind (PerformanceObserver 'gc' entries), total and longest, ms.
// With FLOWGATE_FLEET_PROBE_PROFILE=1 it also samples a V8 CPU profile of the window alone (node:inspector, in
// process: the first SIGUSR2 starts it, the second writes `${FLOWGATE_FLEET_PROBE_OUT}.cpuprofile`), so connecting
// the fleet and shutting down are not in it, as they would be with --cpu-prof; with =heap, a sampling heap profile
// of the window (`.heapprofile`: what was allocated in it and outlived a scavenge); with =alloc, the same of
// everything allocated in it (what fills the young generation, so how often a scavenge pauses the loop).
import { monitorEventLoopDelay, performance, PerformanceObserver, constants } from 'node:perf_hooks'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { writeHeapSnapshot } from 'node:v8'

const out = process.env.FLOWGATE_FLEET_PROBE_OUT
if (out) {
  const kinds = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb'
  }
  const RESOLUTION_MS = 10
  const eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  eld.enable()
  let gc = {}
  let since = performance.now()
  let elu0 = performance.eventLoopUtilization()
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[e.detail?.kind ?? e.kind] ?? 'other'
      const g = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 })
      g.count++
      g.totalMs += e.duration
      g.maxMs = Math.max(g.maxMs, e.duration)
    }
  }).observe({ entryTypes: ['gc'] })
  let session
  const profile = () => {
    const kind = process.env.FLOWGATE_FLEET_PROBE_PROFILE
    // snapshot: one heap snapshot 5 s into the window (`.heapsnapshot`; it stops the process for seconds, so the
    // window's latencies mean nothing then): what each connection and each message in flight hold.
    if (kind === 'snapshot' && session === undefined) {
      session = null
      setTimeout(() => writeHeapSnapshot(`${out}.heapsnapshot`), 5000).unref()
      return
    }
    const heap = kind === 'heap' || kind === 'alloc'
    if (kind !== '1' && !heap) return
    if (session === undefined) {
      session = new Session()
      session.connect()
      // heap: V8's sampling heap profiler (one sample per ~16 KB allocated), by the stack that allocated them. What
      // it returns at the window's end is every sampled object that outlived a scavenge: still alive, or promoted
      // and collected later by a mark-compact — what scavenges had to copy, and why.
      // alloc: also what died young, so the profile is everything allocated in the window.
      if (heap) session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: kind === 'alloc' })
      else session.post('Profiler.enable', () => session.post('Profiler.start'))
      return
    }
    const [method, file] = heap ? ['HeapProfiler.stopSampling', `${out}.heapprofile`] : ['Profiler.stop', `${out}.cpuprofile`]
    session.post(method, (err, res) => {
      if (!err) writeFileSync(file, JSON.stringify(res.profile))
      session.disconnect()
      session = undefined
    })
  }
  process.on('SIGUSR2', () => {
    profile()
    const now = performance.now()
    const ms = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS)
    writeFileSync(out, JSON.stringify({
      windowMs: now - since,
      eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), p999: ms(eld.percentile(99.9)), max: ms(eld.max), mean: ms(eld.mean) },
      elu: performance.eventLoopUtilization(elu0).utilization,
      gc,
      heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20
    }))
    eld.reset()
    gc = {}
    since = now
    elu0 = performance.eventLoopUtilization()
  })
}
