import { cpus, loadavg, tmpdir } from 'node:os'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel, type Admin } from 'kafkajs'
import { rig, uniqueTopic, kafkaConfig, manifests, kafkaEndpoint, dataflow, type RigInfo } from '@flowgate/testkit'
import type { Bench, Measurement } from './lib/types.js'
import { machineLine } from './lib/report.js'
import { startChildGateway, procMemory, procCpuSeconds } from './lib/processes.js'
import { probePreload, raiseFileLimit, startFleetAedes } from './lib/fleet-processes.js'
import { startFanoutLoad, type FanoutLoad } from './lib/fanout-processes.js'
import type { FanoutLoadResult } from './lib/fanout-load.js'
import { kafkaSender, mqttSender, pace, prime, type PaceResult, type Sender } from './lib/fanout-feed.js'
import { clockMs } from './lib/fanout-wire.js'
import { flag } from './lib/flags.js'
import { percentiles } from './lib/percentiles.js'

// `pnpm bench fanout [--devices N] [--topics K] [--rate R] [--shared-devices N] [--shared-rate R] [--seconds S]
// [--warmup S] [--drain S] [--loaders L] [--protocol 4|5] [--shapes distinct,shared] [--targets aedes,flowgate]`:
// run.ts leaves `--flag value` pairs to the benches.
const DEVICES = Number(flag('devices') ?? 10_000)
const TOPICS = Number(flag('topics') ?? 100)
const RATE = Number(flag('rate') ?? 2_000)
const SHARED_DEVICES = Number(flag('shared-devices') ?? 1_000)
const SHARED_RATE = Number(flag('shared-rate') ?? 20)
const MEASURE_MS = Number(flag('seconds') ?? 20) * 1000
const WARMUP_MS = Number(flag('warmup') ?? 5) * 1000
const DRAIN_MS = Number(flag('drain') ?? 30) * 1000
const LOADERS = flag('loaders')
const PROTOCOL = Number(flag('protocol') ?? 5) as 4 | 5
const SHAPES = (flag('shapes') ?? 'distinct,shared').split(',')
const TARGETS = (flag('targets') ?? 'aedes,flowgate').split(',')
/** How long priming may take: for Flowgate it includes the consumer group's join. */
const PRIME_TIMEOUT_MS = 60_000
/** Loopback aliases the devices connect from: each (source, broker) pair has its own ~28k ephemeral ports. */
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`)

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const pct = (n: number): string => Number.isNaN(n) ? '–' : `${Math.round(n * 100)}%`
const ms = (n: number): string => n.toFixed(1)
const sleep = async (t: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, t))

/**
 * One shape of the fleet. The seed's dataflow names the MQTT topic from the Kafka topic (`${inputTopic}`), not from
 * the record, so "a topic per device" is a Kafka topic per device: `kafkaTopics[t]` reaches `fleet/<it>/cmd`.
 */
interface Shape {
  name: 'distinct' | 'shared'
  describe: string
  kafkaTopics: string[]
  /** The filter device i subscribes to. */
  deviceTopics: string[]
  rate: number
  /** Deliveries one record makes. */
  fanout: number
}

const mqttTopicOf = (kafkaTopic: string): string => `fleet/${kafkaTopic}/cmd`

function distinctShape (): Shape {
  if (TOPICS > DEVICES) throw new Error(`--topics ${TOPICS} > --devices ${DEVICES}: each topic needs its own device`)
  const kafkaTopics = Array.from({ length: TOPICS }, (_, t) => uniqueTopic(`bench-fanout-${t}`))
  return {
    name: 'distinct',
    describe: `${fmt(DEVICES)} devices on distinct topics (${fmt(TOPICS)} fed, ${fmt(DEVICES - TOPICS)} idle), ${fmt(RATE)} records/s over ${fmt(TOPICS)} topics`,
    kafkaTopics,
    // Devices 0..K-1 get a fed topic each; the rest hold fleet-sized subscriptions that never match.
    deviceTopics: Array.from({ length: DEVICES }, (_, i) => i < TOPICS ? mqttTopicOf(kafkaTopics[i]!) : `fleet/idle-${i}/cmd`),
    rate: RATE,
    fanout: 1
  }
}

function sharedShape (): Shape {
  const kafkaTopic = uniqueTopic('bench-fanout-shared')
  return {
    name: 'shared',
    describe: `${fmt(SHARED_DEVICES)} devices on one shared topic, ${fmt(SHARED_RATE)} records/s → ${fmt(SHARED_RATE * SHARED_DEVICES)} deliveries/s`,
    kafkaTopics: [kafkaTopic],
    deviceTopics: new Array<string>(SHARED_DEVICES).fill(mqttTopicOf(kafkaTopic)),
    rate: SHARED_RATE,
    fanout: SHARED_DEVICES
  }
}

interface ProbeStats { windowMs: number, elu: number, eld: { p99: number, max: number } }

interface TargetRun {
  shape: Shape['name']
  target: 'aedes alone' | 'Flowgate'
  subscribed: number
  connectSeconds: number
  rssBeforeMb: number
  rssConnectedMb: number
  rssLoadedMb: number
  peakMb: number
  cpuShare: number
  probe?: ProbeStats
  feed: PaceResult
  feedFailed: number
  feedFirstError?: string
  expected: number
  unique: number
  duplicates: number
  notQos1: number
  foreign: number
  closed: number
  windowRate: number
  latency: { count: number, p50: number, p99: number, p999: number, max: number }
  loads: FanoutLoadResult[]
  drainSeconds: number
  load: [number, number]
}

interface Broker { pid: number, mqttPort: number, probeOut: string }

/** The fleet, split over load processes (about 2,500 devices each, 2 to 8), each device subscribed and SUBACKed. */
async function connectFleet (shape: Shape, broker: Broker, loads: FanoutLoad[]): Promise<{ subscribed: number, seconds: number }> {
  const n = shape.deviceTopics.length
  const per = Math.ceil(n / loads.length)
  const prefix = `fanout-${Math.random().toString(36).slice(2, 8)}`
  const t0 = performance.now()
  const connected = await Promise.all(loads.map(async (l, k) => await l.connect({
    host: '127.0.0.1',
    port: broker.mqttPort,
    topics: shape.deviceTopics.slice(k * per, (k + 1) * per),
    first: k * per,
    sourceAddresses: SOURCES,
    clientIdPrefix: prefix,
    protocolVersion: PROTOCOL,
    keepaliveSeconds: 60,
    concurrency: 50
  })))
  const failed = connected.reduce((s, c) => s + c.failed, 0)
  if (failed > 0) throw new Error(`${failed} of ${n} devices did not subscribe: ${connected.find((c) => c.firstError)?.firstError}`)
  return { subscribed: connected.reduce((s, c) => s + c.subscribed, 0), seconds: (performance.now() - t0) / 1000 }
}

/** Sums the load processes' counters until `done` says so or `timeoutMs` passes; returns the last sums. */
async function pollStatus (loads: FanoutLoad[], done: (s: { primed: number, unique: number }) => boolean, timeoutMs: number): Promise<{ primed: number, unique: number, waitedMs: number }> {
  const t0 = performance.now()
  for (;;) {
    const all = await Promise.all(loads.map(async (l) => await l.status()))
    const s = { primed: all.reduce((n, x) => n + x.primed, 0), unique: all.reduce((n, x) => n + x.unique, 0) }
    const waitedMs = performance.now() - t0
    if (done(s) || waitedMs > timeoutMs) return { ...s, waitedMs }
    await sleep(100)
  }
}

/**
 * One target of one shape: subscribe the fleet (idle cost), prime the path, feed at the shape's rate (warm-up, then
 * the measured window with the broker's CPU, RSS and event loop), wait until every expected delivery arrived or the
 * drain timed out.
 */
async function runTarget (shape: Shape, target: TargetRun['target'], broker: Broker, sender: Sender, log: (line: string) => void): Promise<TargetRun> {
  const label = `${shape.name}: ${target}`
  const loaderCount = Number(LOADERS ?? Math.min(8, Math.max(2, Math.ceil(shape.deviceTopics.length / 2500))))
  const loads = await Promise.all(Array.from({ length: loaderCount }, async () => await startFanoutLoad()))
  try {
    await sleep(1000)
    const rssBeforeMb = procMemory(broker.pid).rssMb
    const { subscribed, seconds: connectSeconds } = await connectFleet(shape, broker, loads)
    await sleep(1000)
    const rssConnectedMb = procMemory(broker.pid).rssMb
    log(`${label}: ${fmt(subscribed)} devices subscribed in ${connectSeconds.toFixed(1)} s (${loaderCount} load processes); RSS ${rssBeforeMb.toFixed(0)} → ${rssConnectedMb.toFixed(0)} MB`)

    const primes = shape.kafkaTopics.length * shape.fanout
    prime(sender, shape.kafkaTopics.length)
    const primed = await pollStatus(loads, (s) => s.primed >= primes, PRIME_TIMEOUT_MS)
    if (primed.primed < primes) {
      const failed = sender.failed()
      throw new Error(`${label}: only ${primed.primed} of ${primes} priming deliveries in ${PRIME_TIMEOUT_MS / 1000} s (sends pending ${sender.pending()}, failed ${failed.count}${failed.firstError ? `: ${failed.firstError}` : ''})`)
    }
    log(`${label}: path open (${fmt(primes)} priming deliveries in ${(primed.waitedMs / 1000).toFixed(1)} s); feeding ${fmt(shape.rate)} records/s (${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured)…`)

    const startAt = clockMs() + 500
    const windowStart = startAt + WARMUP_MS
    const windowEnd = windowStart + MEASURE_MS
    for (const l of loads) l.window(windowStart, windowEnd)
    let c0 = 0; let c1 = 0; let rssLoadedMb = 0
    const load: [number, number] = [NaN, NaN]
    // SIGUSR2 asks the probe preloaded into the broker for its event loop since the previous one (fleet-probe.mjs).
    const opened = sleep(windowStart - clockMs()).then(() => { c0 = procCpuSeconds(broker.pid); load[0] = loadavg()[0]!; process.kill(broker.pid, 'SIGUSR2') })
    const closed = sleep(windowEnd - clockMs()).then(() => {
      c1 = procCpuSeconds(broker.pid)
      process.kill(broker.pid, 'SIGUSR2')
      rssLoadedMb = procMemory(broker.pid).rssMb
      load[1] = loadavg()[0]!
    })
    const feed = await pace(sender, { topicCount: shape.kafkaTopics.length, rate: shape.rate, startAt, endAt: windowEnd, windowStart })
    await Promise.all([opened, closed])

    const expected = feed.sent * shape.fanout
    const drained = await pollStatus(loads, (s) => s.unique >= expected && sender.pending() === 0, DRAIN_MS)
    const results = await Promise.all(loads.map(async (l) => await l.result()))
    const probe = existsSync(broker.probeOut) ? JSON.parse(readFileSync(broker.probeOut, 'utf8')) as ProbeStats : undefined
    const sum = (k: 'unique' | 'duplicates' | 'notQos1' | 'foreign' | 'closed' | 'windowReceived'): number => results.reduce((n, r) => n + r[k], 0)
    const failed = sender.failed()
    return {
      shape: shape.name,
      target,
      subscribed,
      connectSeconds,
      rssBeforeMb,
      rssConnectedMb,
      rssLoadedMb,
      peakMb: procMemory(broker.pid).peakMb,
      cpuShare: (c1 - c0) / (MEASURE_MS / 1000),
      probe,
      feed,
      feedFailed: failed.count,
      feedFirstError: failed.firstError,
      expected,
      unique: sum('unique'),
      duplicates: sum('duplicates'),
      notQos1: sum('notQos1'),
      foreign: sum('foreign'),
      closed: sum('closed'),
      windowRate: sum('windowReceived') / (MEASURE_MS / 1000),
      latency: percentiles(results),
      loads: results,
      drainSeconds: drained.waitedMs / 1000,
      load
    }
  } finally {
    await Promise.all(loads.map(async (l) => await l.close()))
  }
}

/** aedes alone (services/ingress, no interceptor) fed by the raw QoS 1 publisher on the flow's MQTT topics. */
async function runAedes (shape: Shape, dir: string, log: (line: string) => void): Promise<TargetRun> {
  const probeOut = join(dir, `${shape.name}-aedes.json`)
  log(`${shape.name}: aedes alone (services/ingress, no interceptor), child process; a raw MQTT 5 QoS 1 publisher in the bench process…`)
  const aedes = await startFleetAedes(['--import', probePreload], { ...process.env, FLOWGATE_FLEET_PROBE_OUT: probeOut })
  try {
    const sender = await mqttSender('127.0.0.1', aedes.mqttPort, 'fanout-publisher', shape.kafkaTopics.map(mqttTopicOf))
    try { return await runTarget(shape, 'aedes alone', { ...aedes, probeOut }, sender, log) } finally { await sender.close() }
  } finally { await aedes.close() }
}

/** The Kafka → MQTT dataflow: every topic of the shape in dataSources, `fleet/${inputTopic}/cmd` on the embedded broker. */
function fanoutFlow (r: RigInfo, topics: string[], group: string): string {
  return manifests(
    kafkaEndpoint({ name: 'kafka-fanout', namespace: 'default', host: r.listeners.plaintext, settings: { consumerGroupId: group } }),
    dataflow({ name: 'bench', namespace: 'default', source: { endpointRef: 'kafka-fanout', dataSources: topics }, destination: { endpointRef: 'default', dataDestination: mqttTopicOf('${inputTopic}') } })
  )
}

/** `flowgate start` with the dataflow applied, fed by kafkajs at the same rate into the shape's Kafka topics. */
async function runFlowgate (r: RigInfo, kafka: Kafka, admin: Admin, shape: Shape, dir: string, log: (line: string) => void): Promise<TargetRun> {
  const probeOut = join(dir, `${shape.name}-flowgate.json`)
  // One partition each: a record per 50 ms (shared) or 20/s per topic (distinct) leaves nothing for partitions to
  // parallelise (the fan-out is aedes' work on the gateway's one event loop), and one partition keeps every device's
  // deliveries in produce order, as a command stream to a fleet would be.
  await admin.createTopics({ topics: shape.kafkaTopics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true })
  // A producer per run: one that knew the topics deleted after an earlier run kept asking for their metadata, and its
  // sends to the next run's topic never completed.
  const producer = kafka.producer()
  await producer.connect()
  try {
    log(`${shape.name}: Flowgate: flowgate start (child process), Kafka → MQTT dataflow over ${shape.kafkaTopics.length} topic(s) → ${mqttTopicOf('${inputTopic}')} on the embedded broker…`)
    // startChildGateway passes the bench's environment on: the probe's output file rides there for this one start.
    process.env.FLOWGATE_FLEET_PROBE_OUT = probeOut
    let gw
    try { gw = await startChildGateway(['--import', probePreload]) } finally { delete process.env.FLOWGATE_FLEET_PROBE_OUT }
    try {
      // A group of its own: a shared name could meet another gateway's members on this Kafka.
      await gw.applyAndWaitReady(fanoutFlow(r, shape.kafkaTopics, uniqueTopic('bench-fanout-group')))
      return await runTarget(shape, 'Flowgate', { ...gw, probeOut }, kafkaSender(producer, shape.kafkaTopics), log)
    } finally { await gw.close() }
  } finally {
    await producer.disconnect()
    await admin.deleteTopics({ topics: shape.kafkaTopics }).catch(() => {})
  }
}

function describeRun (t: TargetRun): string[] {
  const label = `${t.shape}: ${t.target}`
  const missing = t.expected - t.unique
  const lines = [
    `${label}: ${fmt(t.windowRate)} deliveries/s in the window; send→delivery p50 ${ms(t.latency.p50)} / p99 ${ms(t.latency.p99)} / p99.9 ${ms(t.latency.p999)} / max ${t.latency.max.toFixed(0)} ms (${fmt(t.latency.count)} sent in the window); broker CPU ${pct(t.cpuShare)}`,
    `${label}: ${fmt(t.feed.sent)} records fed → ${fmt(t.expected)} deliveries expected, ${fmt(t.unique)} received, missing ${fmt(missing)}${t.duplicates ? `, ${fmt(t.duplicates)} duplicates` : ''}${t.notQos1 ? `, ${fmt(t.notQos1)} at QoS 0` : ''}${t.foreign ? `, ${fmt(t.foreign)} foreign` : ''}${t.closed ? `, ${fmt(t.closed)} connections closed` : ''}${t.feedFailed ? `, ${fmt(t.feedFailed)} sends failed (${t.feedFirstError})` : ''}; drained in ${t.drainSeconds.toFixed(1)} s`,
    `${label}: RSS ${t.rssBeforeMb.toFixed(0)} → ${t.rssConnectedMb.toFixed(0)} MB subscribed (${((t.rssConnectedMb - t.rssBeforeMb) * 1024 / t.subscribed).toFixed(1)} KB/device) → ${t.rssLoadedMb.toFixed(0)} MB delivering, peak ${t.peakMb.toFixed(0)} MB`,
    `${label}: load processes' event loops busy ${t.loads.map((l) => pct(l.elu)).join(' / ')}; feeder (bench process) loop busy ${pct(t.feed.elu)}, sends late by p99 ${ms(t.feed.lagP99Ms)} / max ${t.feed.lagMaxMs.toFixed(0)} ms; machine load average ${t.load[0].toFixed(1)} → ${t.load[1].toFixed(1)} on ${cpus().length} cores`
  ]
  if (t.probe) lines.push(`${label}: broker event loop busy ${pct(t.probe.elu)}, delay p99 ${ms(t.probe.eld.p99)} / max ${t.probe.eld.max.toFixed(0)} ms`)
  return lines
}

function shapeTable (shape: Shape, runs: TargetRun[]): string[] {
  const rows = runs.map((t) => `| ${t.target} | ${fmt(t.subscribed)} | ${fmt(shape.rate * shape.fanout)} → ${fmt(t.windowRate)} | ${ms(t.latency.p50)} / ${ms(t.latency.p99)} / ${ms(t.latency.p999)} ms | ${fmt(t.expected)} / ${fmt(t.unique)} / ${fmt(t.expected - t.unique)} | ${t.rssLoadedMb.toFixed(0)} MB | ${pct(t.cpuShare)} | ${t.probe ? pct(t.probe.elu) : '–'} | ${t.loads.map((l) => pct(l.elu)).join(' / ')} |`)
  const lines = [
    `${shape.name}: ${shape.describe}`,
    '| target | devices | deliveries/s offered → in window | send→delivery p50 / p99 / p99.9 | deliveries expected / received / missing | broker RSS | broker CPU | broker loop busy | load loops busy |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows
  ]
  const aedes = runs.find((t) => t.target === 'aedes alone')
  const fg = runs.find((t) => t.target === 'Flowgate')
  if (aedes && fg) lines.push(`${shape.name}: Flowgate ÷ aedes alone: rate ${(fg.windowRate / aedes.windowRate).toFixed(2)}×, p99 ${(fg.latency.p99 / aedes.latency.p99).toFixed(2)}× (${ms(fg.latency.p99)} vs ${ms(aedes.latency.p99)} ms)`)
  return lines
}

/** Kafka → MQTT to a fleet: one record to a subscriber per device, Flowgate against aedes alone in one run. */
export const fanoutBench: Bench = {
  name: 'fanout',
  description: `Kafka → MQTT to a fleet of raw-socket QoS 1 subscribers: ${fmt(DEVICES)} distinct subscriptions fed over ${fmt(TOPICS)} Kafka topics at ${fmt(RATE)} records/s, and ${fmt(SHARED_DEVICES)} devices on one topic at ${fmt(SHARED_RATE)} records/s; aedes alone (fed over MQTT) vs flowgate start (fed through Kafka)`,
  async run (log) {
    const limit = raiseFileLimit()
    const largest = Math.max(SHAPES.includes('distinct') ? DEVICES : 0, SHAPES.includes('shared') ? SHARED_DEVICES : 0)
    if (limit < largest + 500) throw new Error(`the open-file limit is ${limit}: a broker holding ${largest} devices needs more (raise the hard limit) or ask for fewer devices`)
    log(`open files: ${fmt(limit)} for the broker (needs ${fmt(largest)} + its own) and each load process`)
    const r = await rig()
    const kafka = new Kafka({ ...kafkaConfig(r, 'plaintext', 'bench-fanout'), logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-fanout-'))
    const tables: string[] = []
    const runs: TargetRun[] = []
    try {
      for (const shape of [distinctShape, sharedShape].map((make) => make()).filter((s) => SHAPES.includes(s.name))) {
        const shapeRuns: TargetRun[] = []
        if (TARGETS.includes('aedes')) shapeRuns.push(await runAedes(shape, dir, log))
        if (shapeRuns.length) for (const line of describeRun(shapeRuns.at(-1)!)) log(line)
        if (TARGETS.includes('flowgate')) shapeRuns.push(await runFlowgate(r, kafka, admin, shape, dir, log))
        if (TARGETS.includes('flowgate')) for (const line of describeRun(shapeRuns.at(-1)!)) log(line)
        tables.push(...shapeTable(shape, shapeRuns))
        runs.push(...shapeRuns)
      }
    } finally {
      await admin.disconnect()
      rmSync(dir, { recursive: true, force: true })
    }
    const m = (t: TargetRun): Measurement => ({ label: `${t.shape}: ${t.target} (deliveries)`, messagesPerSecond: t.windowRate, p99Ms: t.latency.p99, rssMb: t.rssLoadedMb })
    const [baseline, ...candidates] = runs.map(m)
    if (!baseline) throw new Error(`--shapes ${SHAPES.join(',')} --targets ${TARGETS.join(',')}: nothing ran`)
    const missing = runs.filter((t) => t.unique < t.expected)
    return {
      baseline,
      candidates,
      notes: [
        ...tables,
        missing.length ? `WARNING: deliveries missing: ${missing.map((t) => `${t.shape}: ${t.target} ${fmt(t.expected - t.unique)} of ${fmt(t.expected)}`).join('; ')}` : 'every expected delivery arrived on every target (missing 0)',
        'the × baseline column compares with the first row (aedes alone, first shape); Flowgate ÷ aedes per shape is under its table',
        `send→delivery: the payload carries its send time (produce call for Flowgate, PUBLISH write for aedes alone) on CLOCK_MONOTONIC, the subscriber takes receipt − send; ${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured, ≤ ${DRAIN_MS / 1000} s drain; devices MQTT ${PROTOCOL === 5 ? '5' : '3.1.1'}, QoS 1 subscriptions, every delivery PUBACKed, from ${SOURCES[0]}–${SOURCES.at(-1)}`,
        `cores: ${cpus().length} shared by Kafka, the broker, the load processes and the feeder; a shared machine: compare within one run`,
        machineLine()
      ]
    }
  }
}
