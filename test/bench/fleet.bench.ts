import { cpus, loadavg } from 'node:os'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { rig, createTopic, uniqueTopic, kafkaConfig } from '@flowgate/testkit'
import type { Bench, Measurement } from './lib/types.js'
import { startChildGateway, procMemory, procCpuSeconds, processTree, machineCpuTicks } from './lib/processes.js'
import { startTestPostgres, startRedis } from '@flowgate/testkit'
import { topicRecords } from './lib/baselines.js'
import { benchFlow } from './lib/bench-flow.js'
import { probePreload, raiseFileLimit, startFleetAedes, startLoadProcess, type LoadProcess } from './lib/fleet-processes.js'
import type { FleetLoadResult } from './lib/fleet-load.js'
import { summariseHeapProfile, summariseProfile, type HeapSummary, type ProfileSummary } from './lib/fleet-profile.js'
import { flag } from './lib/flags.js'
import { percentiles } from './lib/percentiles.js'
import { bucketQuantileMs, histogramDelta, meanMs, readHistogram, shareAboveMs, type Histogram } from './lib/prom-histogram.js'
import { kafkaFloor, type KafkaFloor } from './lib/fleet-kafka-floor.js'
import { pinCores, type CpuPinning } from './lib/cpu-pin.js'

// `pnpm bench fleet [--devices N] [--rate R] [--seconds S] [--warmup S] [--loaders K] [--protocol 4|5]
// [--targets aedes,kafka,flowgate,workers] [--workers N] [--profile | --profile=heap|alloc|snapshot] [--pin]`: run.ts leaves `--flag value` pairs to the benches.
const DEVICES = Number(flag('devices') ?? 10_000)
const RATE = Number(flag('rate') ?? 2)
const MEASURE_MS = Number(flag('seconds') ?? 30) * 1000
const WARMUP_MS = Number(flag('warmup') ?? 5) * 1000
const LOADERS = Number(flag('loaders') ?? Math.min(8, Math.max(2, Math.ceil(DEVICES / 2500))))
const PROTOCOL = Number(flag('protocol') ?? 5) as 4 | 5
const TARGETS = (flag('targets') ?? 'aedes,kafka,flowgate').split(',')
/**
 * `--profile`: a CPU profile of the window (the probe's kind '1'); `--profile=heap`: a sampling heap profile (what
 * outlived a scavenge); `--profile=alloc`: the same of every allocation; `--profile=snapshot`: one heap snapshot. The probe (fleet-probe.mjs) takes the kind as is.
 */
const profileArg = process.argv.find((a) => a === '--profile' || a.startsWith('--profile='))
const PROFILE = profileArg === undefined ? undefined : profileArg === '--profile' ? '1' : profileArg.slice('--profile='.length)
/** `--pin`: the broker under test (aedes alone, then Flowgate) on the last core alone; see lib/cpu-pin.ts. */
const PIN = process.argv.includes('--pin')
let pinning: CpuPinning | null = null
/** The rig's Kafka broker (its JVM): its CPU over each window is printed beside the broker's. */
let kafkaPid = 0
/** The `workers` target: `flowgate start --workers N` with PostgreSQL and Redis on this machine. */
const WORKERS = Number(flag('workers') ?? 2)
const PAYLOAD = 256
const PARTITIONS = 3
const DRAIN_MS = 10_000
/** Loopback aliases the devices connect from: each (source, broker) pair has its own ~28k ephemeral ports. */
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`)

interface ProbeStats {
  windowMs: number
  eld: { p50: number, p99: number, p999: number, max: number, mean: number }
  elu: number
  gc: Record<string, { count: number, totalMs: number, maxMs: number }>
  heapUsedMb: number
}

interface TargetRun {
  label: string
  connected: number
  connectFailed: number
  connectSeconds: number
  rssBeforeMb: number
  rssConnectedMb: number
  rssLoadedMb: number
  peakMb: number
  cpuShare: number
  windowRate: number
  latency: { count: number, p50: number, p99: number, p999: number, max: number }
  acked: number
  published: number
  failed: number
  unacked: number
  overflow: number
  closed: number
  loads: FleetLoadResult[]
  probe?: ProbeStats
  profile?: ProfileSummary
  heap?: HeapSummary
  records?: number
  /** From the gateway's /metrics, the window alone: each message's take → Kafka ack, and each produce request. */
  stages?: { send: Histogram, produce: Histogram }
  /** The machine's 1-minute load average as the window opened and closed (others share the box). */
  load: [number, number]
  /** Over the window: the share of all cores busy, and Kafka's broker (the rig's JVM) in cores. */
  machine: { busy: number, kafkaCores: number }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const pct = (n: number): string => `${Math.round(n * 100)}%`
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/**
 * One target: connect the fleet (idle cost), publish (warm-up, then the measured window with the broker's CPU, RSS
 * and probe), drain, disconnect.
 */
async function runFleet (label: string, broker: { pid: number, mqttPort: number, probed: boolean, httpBase?: string }, probeOut: string, log: (line: string) => void): Promise<Omit<TargetRun, 'records'>> {
  // A --workers gateway is a primary and its workers: CPU and memory are the sum over the process tree. The probe
  // (SIGUSR2, whose default action ends a process) runs only in a broker started with it.
  const tree = processTree(broker.pid)
  pinning?.pinBroker(tree)
  const cpu = (): number => tree.reduce((n, pid) => n + procCpuSeconds(pid), 0)
  const memory = (): { rssMb: number, peakMb: number } => tree.map(procMemory).reduce((a, b) => ({ rssMb: a.rssMb + b.rssMb, peakMb: a.peakMb + b.peakMb }))
  const askProbe = (): void => { if (broker.probed) process.kill(broker.pid, 'SIGUSR2') }
  // The gateway's own stage histograms, scraped as the window opens and closes (two renders of /metrics: cheap).
  const scrape = async (): Promise<TargetRun['stages']> => {
    if (broker.httpBase === undefined) return undefined
    const text = await (await fetch(`${broker.httpBase}/metrics`)).text()
    return { send: readHistogram(text, 'aio_dataflow_send_latency_seconds'), produce: readHistogram(text, 'aio_dataflow_kafka_produce_request_seconds') }
  }
  let stagesAtOpen: Promise<TargetRun['stages']> = Promise.resolve(undefined)
  let stagesAtClose: Promise<TargetRun['stages']> = Promise.resolve(undefined)
  const loads: LoadProcess[] = await Promise.all(Array.from({ length: LOADERS }, async () => await startLoadProcess()))
  try {
    await sleep(1000)
    const rssBeforeMb = memory().rssMb
    const per = Math.ceil(DEVICES / LOADERS)
    const prefix = `fleet-${Math.random().toString(36).slice(2, 8)}`
    const t0 = performance.now()
    const connected = await Promise.all(loads.map(async (l, k) => await l.connect({
      host: '127.0.0.1',
      port: broker.mqttPort,
      first: k * per,
      count: Math.max(0, Math.min(per, DEVICES - k * per)),
      sourceAddresses: SOURCES,
      clientIdPrefix: prefix,
      topicPrefix: 'bench',
      payloadBytes: PAYLOAD,
      protocolVersion: PROTOCOL,
      keepaliveSeconds: 60,
      concurrency: 50
    })))
    const connectSeconds = (performance.now() - t0) / 1000
    const ok = connected.reduce((n, c) => n + c.connected, 0)
    const connectFailed = connected.reduce((n, c) => n + c.failed, 0)
    log(`${label}: ${fmt(ok)} devices connected in ${connectSeconds.toFixed(1)} s${connectFailed ? `, ${fmt(connectFailed)} failed (${connected.find((c) => c.firstError)?.firstError})` : ''}`)
    await sleep(2000)
    const rssConnectedMb = memory().rssMb
    log(`${label}: RSS ${rssBeforeMb.toFixed(0)} MB before, ${rssConnectedMb.toFixed(0)} MB with the fleet connected and idle; publishing (${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured)…`)

    const startAt = Date.now() + 500
    let c0 = 0; let c1 = 0; let rssLoadedMb = 0
    const load: [number, number] = [NaN, NaN]
    let m0 = machineCpuTicks(); let m1 = m0; let k0 = 0; let k1 = 0
    const opened = sleep(startAt + WARMUP_MS - Date.now()).then(() => { c0 = cpu(); m0 = machineCpuTicks(); k0 = procCpuSeconds(kafkaPid); load[0] = loadavg()[0]!; askProbe(); stagesAtOpen = scrape() })
    const closed = sleep(startAt + WARMUP_MS + MEASURE_MS - Date.now()).then(() => {
      c1 = cpu()
      m1 = machineCpuTicks()
      k1 = procCpuSeconds(kafkaPid)
      askProbe()
      stagesAtClose = scrape()
      rssLoadedMb = memory().rssMb
      load[1] = loadavg()[0]!
    })
    const results = await Promise.all(loads.map(async (l) => await l.publish({ startAt, ratePerDevice: RATE, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, drainMs: DRAIN_MS })))
    await Promise.all([opened, closed])
    await sleep(300) // the probe's file
    const probe = existsSync(probeOut) ? JSON.parse(readFileSync(probeOut, 'utf8')) as ProbeStats : undefined
    const profileFile = `${probeOut}.cpuprofile`
    const profile = existsSync(profileFile) ? summariseProfile(profileFile) : undefined
    const heapFile = `${probeOut}.heapprofile`
    const heap = existsSync(heapFile) ? summariseHeapProfile(heapFile) : undefined
    // FLOWGATE_BENCH_CPU_PROF=<dir>: keep the window's profiles there (open them in Chrome DevTools or speedscope).
    const keepDir = process.env.FLOWGATE_BENCH_CPU_PROF
    for (const ext of ['cpuprofile', 'heapprofile', 'heapsnapshot']) {
      if (keepDir === undefined || !existsSync(`${probeOut}.${ext}`)) continue
      mkdirSync(keepDir, { recursive: true })
      const kept = join(keepDir, `fleet-${label.replace(/\W+/g, '-')}-${DEVICES}-${Date.now()}.${ext}`)
      copyFileSync(`${probeOut}.${ext}`, kept)
      log(`${label}: ${ext} of the window kept in ${kept}`)
    }
    const [open, close] = await Promise.all([stagesAtOpen, stagesAtClose])
    const stages = open && close ? { send: histogramDelta(open.send, close.send), produce: histogramDelta(open.produce, close.produce) } : undefined
    const sum = (k: keyof FleetLoadResult): number => results.reduce((n, r) => n + (r[k] as number), 0)
    const latency = percentiles(results)
    return {
      label,
      connected: ok,
      connectFailed,
      connectSeconds,
      rssBeforeMb,
      rssConnectedMb,
      rssLoadedMb,
      peakMb: memory().peakMb,
      cpuShare: (c1 - c0) / (MEASURE_MS / 1000),
      windowRate: latency.count / (MEASURE_MS / 1000),
      latency,
      acked: sum('acked'),
      published: sum('published'),
      failed: sum('failed'),
      unacked: sum('unacked'),
      overflow: sum('overflow'),
      closed: sum('closed'),
      loads: results,
      probe,
      profile,
      heap,
      stages,
      load,
      machine: { busy: (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total), kafkaCores: (k1 - k0) / (MEASURE_MS / 1000) }
    }
  } finally {
    await Promise.all(loads.map(async (l) => await l.close()))
  }
}

/** Redis' own CPU seconds (user + system), from INFO: it is not a child of anything the bench can see. */
function redisCpuSeconds (url: string): number {
  const info = execFileSync('redis-cli', ['-u', url, 'INFO', 'cpu']).toString()
  const field = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN)
  return field('used_cpu_user') + field('used_cpu_sys')
}

/**
 * `flowgate start --workers N` (issue 20, item 3): the same fleet over N event loops, PostgreSQL as their store and
 * Redis carrying the broker's live messages between them (every publish goes through Redis).
 */
async function runWorkers (r: Awaited<ReturnType<typeof rig>>, admin: ReturnType<Kafka['admin']>, dir: string, log: (line: string) => void): Promise<TargetRun> {
  const label = `Flowgate ×${WORKERS} workers`
  const topic = uniqueTopic('bench-fleet-workers')
  await createTopic(topic, PARTITIONS)
  const pg = await startTestPostgres()
  const redis = await startRedis()
  try {
    log(`${label}: flowgate start --workers ${WORKERS} --store postgres://… --persistence-url redis://… (Redis and PostgreSQL on this machine too)…`)
    const gw = await startChildGateway([], ['--workers', String(WORKERS), '--store', await pg.createDatabase(), '--persistence-url', redis.url])
    try {
      await gw.applyAndWaitReady(benchFlow(r, topic))
      // Every worker follows the store: give the last one a moment to start the dataflow too.
      await sleep(2000)
      const redisBefore = redisCpuSeconds(redis.url)
      const run = await runFleet(label, { ...gw, probed: false }, join(dir, 'workers.json'), log)
      const redisCpu = redisCpuSeconds(redis.url) - redisBefore
      const result = { ...run, records: await topicRecords(admin, topic) }
      for (const line of describeRun(result)) log(line)
      // The scaling model's Redis figure, measured: its CPU over the whole run (warm-up, window, drain) per publish.
      log(`${label}: Redis used ${redisCpu.toFixed(2)} s of CPU for ${fmt(run.published)} publishes: ${(redisCpu * 1e6 / run.published).toFixed(1)} µs per message (one thread: ~${fmt(run.published / redisCpu)} msg/s at 100 %)`)
      return result
    } finally { await gw.close() }
  } finally {
    await redis.stop()
    await pg.stop()
  }
}

function describeRun (t: TargetRun): string[] {
  const lines = [
    `${t.label}: ${fmt(t.windowRate)} PUBACKs/s in the window; publish→PUBACK p50 ${t.latency.p50.toFixed(1)} / p99 ${t.latency.p99.toFixed(1)} / p99.9 ${t.latency.p999.toFixed(1)} / max ${t.latency.max.toFixed(0)} ms; broker CPU ${pct(t.cpuShare)}`,
    `${t.label}: RSS ${t.rssBeforeMb.toFixed(0)} → ${t.rssConnectedMb.toFixed(0)} MB connected (idle ${((t.rssConnectedMb - t.rssBeforeMb) * 1024 / t.connected).toFixed(1)} KB/conn) → ${t.rssLoadedMb.toFixed(0)} MB publishing (${((t.rssLoadedMb - t.rssBeforeMb) * 1024 / t.connected).toFixed(1)} KB/conn), peak ${t.peakMb.toFixed(0)} MB`,
    `${t.label}: ${fmt(t.published)} published, ${fmt(t.acked)} PUBACKs${t.failed ? `, ${fmt(t.failed)} refused` : ''}${t.unacked ? `, ${fmt(t.unacked)} never acked` : ''}${t.overflow ? `, ${fmt(t.overflow)} skipped (device window full)` : ''}${t.closed ? `, ${fmt(t.closed)} connections closed` : ''}${t.records !== undefined ? `; ${fmt(t.records)} records in Kafka` : ''}`,
    `${t.label}: load processes' event loops busy ${t.loads.map((l) => pct(l.elu)).join(' / ')}, loop delay max ${Math.max(...t.loads.map((l) => l.eldMaxMs)).toFixed(0)} ms, publishes late by p99 ${Math.max(...t.loads.map((l) => l.lagP99Ms)).toFixed(1)} / max ${Math.max(...t.loads.map((l) => l.lagMaxMs)).toFixed(0)} ms; machine load average ${t.load[0].toFixed(1)} → ${t.load[1].toFixed(1)} on ${cpus().length} cores`,
    `${t.label}: the machine's ${cpus().length} cores ${pct(t.machine.busy)} busy over the window; Kafka's broker used ${pct(t.machine.kafkaCores)} of a core, the broker under test ${pct(t.cpuShare)}`
  ]
  if (t.probe) {
    const gcTotal = Object.values(t.probe.gc).reduce((n, g) => n + g.totalMs, 0)
    const gc = Object.entries(t.probe.gc).map(([k, g]) => `${k} ${g.count}× ${g.totalMs.toFixed(0)} ms (max ${g.maxMs.toFixed(1)})`).join(', ')
    lines.push(`${t.label}: broker event loop busy ${pct(t.probe.elu)}, delay p50 ${t.probe.eld.p50.toFixed(1)} / p99 ${t.probe.eld.p99.toFixed(1)} / p99.9 ${t.probe.eld.p999.toFixed(1)} / max ${t.probe.eld.max.toFixed(0)} ms; GC ${gcTotal.toFixed(0)} ms = ${pct(gcTotal / t.probe.windowMs)} of the window (${gc}); heap used ${t.probe.heapUsedMb.toFixed(0)} MB`)
  }
  if (t.stages) {
    const { send, produce } = t.stages
    const le = (h: Histogram, q: number): string => `≤ ${bucketQuantileMs(h, q)}`
    lines.push(`${t.label}: /metrics in the window: a message from the broker's hand-over to Kafka's ack (batch wait + queue + request) mean ${meanMs(send).toFixed(1)} ms, p50 ${le(send, 0.5)}, p99 ${le(send, 0.99)} ms, ${pct(shareAboveMs(send, 10))} over 10 ms, ${pct(shareAboveMs(send, 25))} over 25 ms`)
    lines.push(`${t.label}: /metrics in the window: ${fmt(produce.count)} produce requests (${(send.count / produce.count).toFixed(0)} records each), sent → acked mean ${meanMs(produce).toFixed(1)} ms, p50 ${le(produce, 0.5)}, p99 ${le(produce, 0.99)} ms, ${pct(shareAboveMs(produce, 10))} over 10 ms, ${pct(shareAboveMs(produce, 25))} over 25 ms`)
  }
  if (t.profile) {
    const p = t.profile
    lines.push(`${t.label}: CPU profile of the window: busy ${fmt(p.busyMs)} of ${fmt(p.totalMs)} ms sampled, GC ${pct(p.gcMs / p.busyMs)} of busy; by package: ${p.byPackage.map((x) => `${x.name} ${pct(x.share)}`).join(', ')}`)
    for (const f of p.top) lines.push(`${t.label}:   ${(100 * f.share).toFixed(1).padStart(5)}%  ${f.name}`)
  }
  if (t.heap) {
    const h = t.heap
    const what = PROFILE === 'alloc' ? `allocated in the window (${(h.survivedMb * 1024 * 1024 / Math.max(1, t.latency.count)).toFixed(0)} bytes per message)` : 'allocated in the window outlived a scavenge (alive at its end or promoted and collected since)'
    lines.push(`${t.label}: heap profile: ~${h.survivedMb.toFixed(1)} MB ${what}; by package: ${h.byPackage.map((x) => `${x.name} ${pct(x.share)}`).join(', ')}`)
    for (const f of h.top) lines.push(`${t.label}:   ${(100 * f.share).toFixed(1).padStart(5)}%  ${f.mb.toFixed(2).padStart(6)} MB  ${f.name}`)
  }
  return lines
}

function table (runs: TargetRun[]): string[] {
  const rows = runs.map((t) => {
    const idle = (t.rssConnectedMb - t.rssBeforeMb) * 1024 / t.connected
    const loaded = (t.rssLoadedMb - t.rssBeforeMb) * 1024 / t.connected
    return `| ${t.label} | ${fmt(t.connected)} × ${RATE} msg/s | ${t.latency.p50.toFixed(1)} / ${t.latency.p99.toFixed(1)} / ${t.latency.p999.toFixed(1)} ms | ${t.rssLoadedMb.toFixed(0)} MB (${loaded.toFixed(1)} KB/conn; idle ${idle.toFixed(1)} KB/conn) | ${pct(t.cpuShare)} | ${fmt(t.acked)} PUBACKs${t.records !== undefined ? ` / ${fmt(t.records)} records` : ''} |`
  })
  return ['| broker | fleet | publish→PUBACK p50 / p99 / p99.9 | RSS publishing (per conn; idle cost) | broker CPU | PUBACKs / records in Kafka |', '| --- | --- | --- | --- | --- | --- |', ...rows]
}

/** Issue #20: a fleet of slow QoS 1 devices (not a hundred fast ones) against aedes alone and Flowgate, same run. */
export const fleetBench: Bench = {
  name: 'fleet',
  description: `${fmt(DEVICES)} raw-socket MQTT ${PROTOCOL === 5 ? '5' : '3.1.1'} devices × ${RATE} QoS 1 msg/s (${PAYLOAD} B) in ${LOADERS} load processes, aedes alone vs Flowgate → Kafka (acks All, latencyMs 5)`,
  async run (log) {
    const limit = raiseFileLimit()
    const perLoader = Math.ceil(DEVICES / LOADERS)
    log(`open files: ${fmt(limit)} for the broker (needs ${fmt(DEVICES)} + its own) and each load process (${fmt(perLoader)} devices)`)
    if (limit < DEVICES + 500) throw new Error(`the open-file limit is ${limit}: a broker holding ${DEVICES} devices needs more (raise the hard limit, e.g. run as a user with CAP_SYS_RESOURCE or \`ulimit -Hn\` in the shell that runs the bench), or ask for fewer --devices`)
    if (PIN && TARGETS.includes('workers')) throw new Error('--pin gives the broker under test one core: run the workers target without it')
    const r = await rig()
    kafkaPid = r.pid
    const admin = new Kafka({ ...kafkaConfig(r, 'plaintext', 'bench-fleet'), logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-fleet-'))
    const runs: TargetRun[] = []
    let floor: KafkaFloor | undefined
    const profileEnv = PROFILE ? { FLOWGATE_FLEET_PROBE_PROFILE: PROFILE } : {}
    try {
      if (PIN) {
        pinning = pinCores([r.pid])
        if (pinning) log(`pinned: the broker under test on core ${pinning.brokerCores} alone; Kafka (pid ${r.pid}), the load processes and the bench on ${pinning.otherCores}`)
      }
      if (TARGETS.includes('aedes')) {
        const probeOut = join(dir, 'aedes.json')
        log('aedes alone (services/ingress, no interceptor: PUBACK at once), child process…')
        const aedes = await startFleetAedes(['--import', probePreload], { ...process.env, ...profileEnv, FLOWGATE_FLEET_PROBE_OUT: probeOut })
        try { runs.push(await runFleet('aedes alone', { ...aedes, probed: true }, probeOut, log)) } finally { await aedes.close() }
        for (const line of describeRun(runs.at(-1)!)) log(line)
      }
      if (TARGETS.includes('kafka')) {
        const topic = uniqueTopic('bench-fleet-floor')
        await createTopic(topic, PARTITIONS)
        log(`Kafka's own producer (ProducerPerformance) at the fleet's ${fmt(DEVICES * RATE)} records/s, acks=all, linger.ms=5, idempotent: the Kafka ack latency on this machine…`)
        floor = await kafkaFloor(r, { topic, rate: DEVICES * RATE, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, recordBytes: PAYLOAD, lingerMs: 5 })
        log(`Kafka alone: ${fmt(floor.rate)} records/s, send → ack p50 ${floor.p50} / p99 ${floor.p99} / p99.9 ${floor.p999} / max ${floor.max} ms over ${fmt(floor.records)} records (ms, whole)`)
      }
      if (TARGETS.includes('flowgate')) {
        const probeOut = join(dir, 'flowgate.json')
        const topic = uniqueTopic('bench-fleet')
        await createTopic(topic, PARTITIONS)
        log('Flowgate: flowgate start (child process), dataflow bench/# → Kafka applied…')
        // startChildGateway passes the bench's environment on: the probe's settings ride there for this one start.
        Object.assign(process.env, profileEnv, { FLOWGATE_FLEET_PROBE_OUT: probeOut })
        let gw
        try { gw = await startChildGateway(['--import', probePreload]) } finally { delete process.env.FLOWGATE_FLEET_PROBE_OUT; delete process.env.FLOWGATE_FLEET_PROBE_PROFILE }
        try {
          await gw.applyAndWaitReady(benchFlow(r, topic))
          const run = await runFleet('Flowgate', { ...gw, probed: true }, probeOut, log)
          runs.push({ ...run, records: await topicRecords(admin, topic) })
        } finally { await gw.close() }
        for (const line of describeRun(runs.at(-1)!)) log(line)
      }
      if (TARGETS.includes('workers')) runs.push(await runWorkers(r, admin, dir, log))
    } finally {
      pinning?.release()
      await admin.disconnect()
      rmSync(dir, { recursive: true, force: true })
    }
    const notes: string[] = []
    const aedes = runs.find((t) => t.label === 'aedes alone')
    const fg = runs.find((t) => t.label === 'Flowgate')
    if (fg?.records !== undefined) {
      notes.push(fg.records >= fg.acked ? `every PUBACK is a record in Kafka: ${fmt(fg.acked)} PUBACKs, ${fmt(fg.records)} records${fg.records > fg.acked ? ' (the rest: publishes whose PUBACK the load stopped waiting for)' : ''}` : `WARNING: ${fmt(fg.acked)} PUBACKs but only ${fmt(fg.records)} records in Kafka`)
    }
    if (aedes && fg) {
      const idle = (t: TargetRun): number => (t.rssConnectedMb - t.rssBeforeMb) * 1024 / t.connected
      notes.push(
        `targets (issue 20): p99 ${fg.latency.p99.toFixed(1)} ms vs 2 × aedes' ${aedes.latency.p99.toFixed(1)} + 5 = ${(2 * aedes.latency.p99 + 5).toFixed(1)} ms${floor ? ` (Kafka's own producer at this rate: p99 ${floor.p99} ms from send to ack)` : ''}; RSS ${fg.rssLoadedMb.toFixed(0)} MB vs aedes + 25 % = ${(aedes.rssLoadedMb * 1.25).toFixed(0)} MB; idle connection ${idle(fg).toFixed(1)} KB (target ≤ 20 KB, aedes alone ${idle(aedes).toFixed(1)} KB)`
      )
    }
    if (floor) notes.push(`Kafka alone (ProducerPerformance, ${fmt(floor.rate)} records/s, acks=all, linger.ms=5): send → ack p50 ${floor.p50} / p99 ${floor.p99} / p99.9 ${floor.p999} ms — the least a PUBACK held until Kafka's ack can wait here`)
    notes.push(
      ...table(runs),
      `fleet: ${fmt(DEVICES)} devices in ${LOADERS} load processes from ${SOURCES[0]}–${SOURCES.at(-1)} to 127.0.0.1, each publishing every ${(1000 / RATE).toFixed(0)} ms (phases spread), MQTT ${PROTOCOL === 5 ? '5' : '3.1.1'} clean sessions, keep-alive 60 s; ${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured, ≤ ${DRAIN_MS / 1000} s drain`,
      pinning ? `cores: ${cpus().length}; the broker under test alone on core ${pinning.brokerCores}, Kafka and the load processes on ${pinning.otherCores}; a shared machine: compare within one run` : `cores: ${cpus().length} shared by Kafka, the broker and the load processes; a shared machine: compare within one run`
    )
    const m = (t: TargetRun): Measurement => ({ label: `${t.label} (publish→PUBACK)`, messagesPerSecond: t.windowRate, p99Ms: t.latency.p99, rssMb: t.rssLoadedMb })
    const [baseline, ...candidates] = runs.map(m)
    if (!baseline) throw new Error(`--targets ${TARGETS.join(',')}: nothing ran`)
    return { baseline, candidates, notes }
  }
}
