import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { Kafka } from 'kafkajs'
import { connectAsync } from 'mqtt'
import { startGateway } from '@flowgate/gateway'
import {
  rig, kafkaConfig, kcatArgs, kcatConsume, createTopic, uniqueTopic, startTestGateway, eventually, manifests, kafkaEndpoint,
  dataflow, checkAgainstKafka, reportFault, type KcatRecord
} from '@flowgate/testkit'

// Kafka → MQTT on real parts, the group and partition faults of issue 18: records produced with Debian's kcat (a
// client we did not write) into the rig's Kafka, the gateway's Kafka → MQTT dataflows delivering to its embedded
// broker, and an mqtt.js subscriber counting what arrives. Every record in Kafka must arrive; a key's sequence (one
// key, one partition) must never go backwards; duplicates are counted.

const r = await rig()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
type Gw = Awaited<ReturnType<typeof startTestGateway>>

/** `kcat -P -K:`: one `key:payload` line per record, paced (`perTick` records every 10 ms) to be load, not a burst. */
async function kcatProduce (topic: string, lines: string[], perTick = 20, partition?: number): Promise<void> {
  const child = spawn('kcat', [...kcatArgs(r, 'plaintext'), '-P', '-t', topic, '-K:', '-X', 'linger.ms=5', ...(partition !== undefined ? ['-p', String(partition)] : [])], { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  for (let i = 0; i < lines.length; i += perTick) {
    child.stdin.write(lines.slice(i, i + perTick).join('\n') + '\n')
    await sleep(10)
  }
  child.stdin.end()
  const code = await exited
  if (code !== 0) throw new Error(`kcat -P exited ${code}: ${stderr}`)
}

/** `count` records over `keys` keys: key `<prefix>-k<n>`, payload `<prefix>-k<n>:<seq>` (checkAgainstKafka's shape). */
function records (prefix: string, keys: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => { const key = `${prefix}-k${i % keys}`; return `${key}:${key}:${Math.floor(i / keys) + 1}` })
}

interface Subscriber { got: KcatRecord[], byTopic: Map<string, number> }

/** An MQTT 5 subscriber on the embedded broker: every delivery as a KcatRecord-like row (key from the Key user property). */
async function subscribe (t: Test, gw: Gw, filter: string): Promise<Subscriber> {
  const client = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5, reconnectPeriod: 200 })
  t.teardown(() => client.endAsync(true))
  const s: Subscriber = { got: [], byTopic: new Map() }
  client.on('message', (topic, payload, packet) => {
    const key = packet.properties?.userProperties?.Key
    s.got.push({ topic, partition: -1, offset: -1, key: typeof key === 'string' ? key : null, payload: payload.toString(), headers: null })
    s.byTopic.set(topic, (s.byTopic.get(topic) ?? 0) + 1)
  })
  await client.subscribeAsync(filter, { qos: 1 })
  return s
}

const admin = new Kafka(kafkaConfig(r, 'plaintext', 'fault-k2m-admin')).admin()
await admin.connect()
t.teardown(() => admin.disconnect())

async function stableGroup (groupId: string, members: number, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => {
    const g = (await admin.describeGroups([groupId])).groups[0]
    return g?.state === 'Stable' && g.members.length === members ? true : undefined
  }, timeoutMs, `group ${groupId} stable with ${members} members`)
}

/** Every record of `topics` in Kafka (kcat) arrived at the subscriber? Reported as a fault row. */
async function verify (t: Test, scenario: string, topics: string[], sub: Subscriber, waitMs: number, before = (_payload: string): boolean => false): Promise<void> {
  const inKafka = (await Promise.all(topics.map(async (topic) => kcatConsume(r, 'plaintext', topic, 1_000_000)))).flat()
  const expected = new Set(inKafka.map((rec) => rec.payload ?? '').filter((payload) => payload !== 'probe' && !before(payload)))
  // Delivered distinct payloads, until all expected arrived or the time is up.
  await eventually(async () => new Set(sub.got.map((g) => g.payload)).size >= expected.size ? true : undefined, waitMs, scenario).catch(() => {})
  const check = checkAgainstKafka(expected, sub.got.filter((g) => g.payload !== 'probe'))
  // Here "acknowledged" is every record in Kafka (what the dataflows promise to deliver) and "in Kafka" what arrived.
  reportFault(t, scenario, check)
  t.same(check.missing.slice(0, 10), [], `every record in Kafka arrived (${check.missing.length} of ${expected.size} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  t.comment(`${scenario}: ${expected.size} records in Kafka, ${sub.got.length} deliveries, ${check.duplicates} duplicates; per topic ${JSON.stringify([...sub.byTopic])}`)
}

/** Probe records until each dataflow forwarded one: the new group took its positions. Not an assertion (a stranded partition never forwards). */
async function warmUp (topics: string[], partitions: number, sub: Subscriber): Promise<void> {
  await eventually(async () => {
    await Promise.all(topics.map(async (topic) => kcatProduce(topic, Array.from({ length: partitions * 4 }, (_, i) => `probe-${i}:probe`))))
    await sleep(500)
    return topics.every((topic) => sub.got.some((g) => g.key?.startsWith('probe') && g.topic.endsWith(topic))) ? true : undefined
  }, 20_000, 'probes').catch(() => {})
  await sleep(500)
  sub.got.splice(0)
  sub.byTopic.clear()
}

t.test('two dataflows sharing a consumerGroupId: every record of each one\'s topics arrives', { timeout: 120_000 }, async (t) => {
  const a = uniqueTopic('k2m-shared-a')
  const b = uniqueTopic('k2m-shared-b')
  const both = uniqueTopic('k2m-shared-both')
  for (const topic of [a, b, both]) await createTopic(topic, 3)
  const group = uniqueTopic('k2m-shared-group')
  const gw = await startTestGateway(t, startGateway)
  const sub = await subscribe(t, gw, '#')
  t.equal((await gw.admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka-shared', host: r.listeners.plaintext, settings: { consumerGroupId: group } }),
    // dataflow-a reads a and both, dataflow-b reads b and both: one group, two subscriptions.
    dataflow({ name: 'dataflow-a', source: { endpointRef: 'kafka-shared', dataSources: [a, both] }, destination: { endpointRef: 'default', dataDestination: 'a/${inputTopic}' } }),
    dataflow({ name: 'dataflow-b', source: { endpointRef: 'kafka-shared', dataSources: [b, both] }, destination: { endpointRef: 'default', dataDestination: 'b/${inputTopic}' } })
  ))).status, 200)
  await stableGroup(group, 2)
  await warmUp([a, b, both], 3, sub)

  await Promise.all([
    kcatProduce(a, records('a', 12, 3000)),
    kcatProduce(b, records('b', 12, 3000)),
    kcatProduce(both, records('both', 12, 3000))
  ])
  await verify(t, 'k2m: 2 dataflows share a consumerGroupId', [a, b, both], sub, 30_000)
  // A topic in both dataflows is read once by the group: each record goes to one of them (Kafka's group semantics).
  const viaA = sub.byTopic.get(`a/${both}`) ?? 0
  const viaB = sub.byTopic.get(`b/${both}`) ?? 0
  t.comment(`the shared topic's records: ${viaA} through dataflow-a, ${viaB} through dataflow-b`)
})

t.test('partitions added while the dataflow runs: their records arrive (a new partition starts at its beginning)', { timeout: 120_000 }, async (t) => {
  const topic = uniqueTopic('k2m-grow')
  await createTopic(topic, 2)
  const group = uniqueTopic('k2m-grow-group')
  const gw = await startTestGateway(t, startGateway)
  const sub = await subscribe(t, gw, '#')
  // Written before the dataflow exists: a brand-new group starts at the end, so these are not delivered.
  await kcatProduce(topic, records('before', 4, 200))
  t.equal((await gw.admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { consumerGroupId: group } }),
    dataflow({ name: 'grow', source: { endpointRef: 'kafka', dataSources: [topic] }, destination: { endpointRef: 'default', dataDestination: 'grow/${inputTopic}' } })
  ))).status, 200)
  await stableGroup(group, 1)
  await warmUp([topic], 2, sub)

  // Load on the two partitions; meanwhile two partitions are added and written to at once (kcat -p), before the
  // dataflow's consumer can know them.
  const load = kcatProduce(topic, records('old', 8, 3000))
  await sleep(1000)
  await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] })
  await Promise.all([kcatProduce(topic, records('p2', 4, 500), 20, 2), kcatProduce(topic, records('p3', 4, 500), 20, 3)])
  await load
  const before = (payload: string): boolean => payload.startsWith('before-')
  await verify(t, 'k2m: partitions added while running', [topic], sub, 40_000, before)
  t.equal(sub.got.filter((g) => before(g.payload ?? '')).length, 0, 'a brand-new group started at the end: records written before it are not delivered')
  const g = (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions ?? []
  t.same(g.filter((p) => Number(p.offset) > 0).map((p) => p.partition).sort(), [0, 1, 2, 3], `the group committed on the new partitions too: ${JSON.stringify(g.map((p) => [p.partition, p.offset]))}`)
})
