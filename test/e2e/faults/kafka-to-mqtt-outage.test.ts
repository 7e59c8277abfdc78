import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Kafka, PartitionAssigners } from 'kafkajs'
import { connectAsync } from 'mqtt'
import { startGateway } from '@flowgate/gateway'
import {
  rig, kafkaConfig, kcatArgs, kcatConsume, createTopic, uniqueTopic, startTestGateway, eventually, manifests, kafkaEndpoint,
  dataflow, dataflowProfile, checkAgainstKafka, reportFault, checkLedger, startMosquitto, type KcatRecord
} from '@flowgate/testkit'

// Kafka → MQTT with the MQTT destination down for longer than the consumer group's session timeout (issue 18,
// item 7): kcat produces ~300 records/s into a 4-partition topic, a dataflow with `instanceCount: 2` delivers them to
// Debian's Mosquitto, and Mosquitto is stopped for OUTAGE_MS. While it is down a third consumer joins the group and
// leaves again (another egress process scaling out): the group must rebalance within the session timeout — members
// stuck retrying the MQTT side rejoin (committing what MQTT acknowledged) instead of swallowing the rebalance and being
// evicted after the rebalance timeout, while they still publish next to the partition's new owner. Afterwards every
// record in Kafka (read with kcat) must have arrived at a subscriber with a persistent session, each key's sequence in
// order (one key, one partition), duplicates counted.
//
// The issue asks for a 90 s outage; this file uses 40 s, the shortest that clearly exceeds the 30 s session timeout,
// so that the file stays within CI's ~90 s per file (FLOWGATE_K2M_OUTAGE_MS=90000 runs the issue's 90 s).

const OUTAGE_MS = Number(process.env.FLOWGATE_K2M_OUTAGE_MS ?? 40_000)
const SESSION_TIMEOUT_MS = 30_000
const r = await rig()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A kcat producer writing `key:payload` lines at `rate` records/s until stopped; payload `<key>:<seq>` per key. */
function kcatLoad (topic: string, keys: number, rate: number): { stop: () => Promise<number> } {
  const child = spawn('kcat', [...kcatArgs(r, 'plaintext'), '-P', '-t', topic, '-K:', '-X', 'linger.ms=5'], { stdio: ['pipe', 'ignore', 'ignore'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const seq = new Array<number>(keys).fill(0)
  let sent = 0
  let running = true
  const loop = (async () => {
    const perTick = Math.max(1, Math.round(rate / 50))
    while (running) {
      const lines: string[] = []
      for (let i = 0; i < perTick; i++) { const k = sent++ % keys; lines.push(`dev-${k}:dev-${k}:${++seq[k]!}`) }
      child.stdin.write(lines.join('\n') + '\n')
      await sleep(20)
    }
    child.stdin.end()
    await exited
  })()
  return { async stop () { running = false; await loop; return sent } }
}

t.test(`Mosquitto stopped for ${OUTAGE_MS / 1000} s under load, instanceCount 2, a consumer joining and leaving meanwhile`, { timeout: 130_000 + OUTAGE_MS }, async (t) => {
  const topic = uniqueTopic('k2m-outage')
  await createTopic(topic, 4)
  const group = uniqueTopic('k2m-outage-group')
  const m = await startMosquitto(t, { extra: ['max_inflight_messages 100'] })
  const got: KcatRecord[] = []
  const sub = await connectAsync(`mqtt://127.0.0.1:${m.port}`, { protocolVersion: 5, reconnectPeriod: 200, clean: false, clientId: `sub-${randomBytes(3).toString('hex')}`, properties: { sessionExpiryInterval: 600 } })
  t.teardown(() => sub.endAsync(true))
  sub.on('message', (_topic, payload, packet) => {
    const key = packet.properties?.userProperties?.Key
    got.push({ topic, partition: -1, offset: -1, key: typeof key === 'string' ? key : null, payload: payload.toString(), headers: null })
  })
  await sub.subscribeAsync('out/#', { qos: 1 })

  const gw = await startTestGateway(t, startGateway)
  t.equal((await gw.admin.apply(manifests(
    kafkaEndpoint({ name: 'kafka', host: r.listeners.plaintext, settings: { consumerGroupId: group } }),
    { apiVersion: 'connectivity.iotoperations.azure.com/v1beta1', kind: 'DataflowEndpoint', metadata: { name: 'mosquitto', namespace: 'azure-iot-operations' }, spec: { endpointType: 'Mqtt', mqttSettings: { host: `127.0.0.1:${m.port}`, tls: { mode: 'Disabled' }, authentication: { method: 'Anonymous', anonymousSettings: {} }, qos: 1 } } },
    dataflowProfile('two', 2),
    dataflow({ name: 'from-kafka', profileRef: 'two', source: { endpointRef: 'kafka', dataSources: [topic] }, destination: { endpointRef: 'mosquitto', dataDestination: 'out/${inputTopic}' } })
  ))).status, 200)
  const admin = new Kafka(kafkaConfig(r, 'plaintext', 'fault-k2m-outage-admin')).admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const describe = async (): Promise<{ state: string, members: string[] }> => {
    const g = (await admin.describeGroups([group])).groups[0]
    return { state: g?.state ?? 'None', members: (g?.members ?? []).map((x) => x.memberId).sort() }
  }
  await eventually(async () => { const g = await describe(); return g.state === 'Stable' && g.members.length === 2 ? true : undefined }, 60_000, 'two members in the group')
  // A new group starts at the end: wait until the flow forwards, then count from the load's first record.
  const warm = kcatLoad(topic, 4, 50)
  await eventually(async () => got.length > 20 ? true : undefined, 30_000, 'the dataflow forwarding')
  await warm.stop()
  await sleep(1000)
  const load = kcatLoad(topic, 12, 300)
  await sleep(5000)
  t.ok(got.length > 500, `delivering before the outage (${got.length})`)

  await m.stop()
  const outageStart = Date.now()
  t.comment(`Mosquitto stopped with ${got.length} delivered`)
  await sleep(5000)
  // Another member joins (an egress process scaling out) and leaves again: a rebalance while the MQTT side is down.
  const joiner = new Kafka(kafkaConfig(r, 'plaintext', 'fault-k2m-joiner')).consumer({ groupId: group, sessionTimeout: SESSION_TIMEOUT_MS, partitionAssigners: [PartitionAssigners.roundRobin] })
  let joinedAt = 0
  joiner.on(joiner.events.GROUP_JOIN, () => { joinedAt ||= Date.now() })
  await joiner.connect()
  await joiner.subscribe({ topics: [topic], fromBeginning: true })
  const joinStart = Date.now()
  // It reads but never commits: whatever it fetched stays for the dataflow. (run() resolves once joined: not awaited.)
  const running = joiner.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} })
  await eventually(async () => joinedAt > 0 ? true : undefined, SESSION_TIMEOUT_MS, 'the joining member to get its assignment').catch(() => {})
  const joinMs = joinedAt > 0 ? joinedAt - joinStart : undefined
  const during = await describe()
  t.ok(joinMs !== undefined, `the group rebalanced within the session timeout with the dataflow's members stuck on MQTT (joined after ${joinMs ?? `> ${SESSION_TIMEOUT_MS}`} ms, group ${during.state} with ${during.members.length} members)`)
  t.equal(during.members.length, 3, 'the dataflow\'s two members stayed in the group (none evicted)')
  await sleep(3000)
  await running.catch(() => {})
  await joiner.disconnect()
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStart)))
  const afterOutage = await describe()
  t.equal(afterOutage.members.length, 2, `two members after ${OUTAGE_MS / 1000} s without MQTT (${afterOutage.state})`)

  await m.start()
  t.comment(`Mosquitto back after ${Date.now() - outageStart} ms`)
  await sleep(5000)
  const sent = await load.stop()
  const inKafka = await kcatConsume(r, 'plaintext', topic, 10_000_000)
  const expected = new Set(inKafka.map((rec) => rec.payload ?? ''))
  // Everything committed must have arrived; wait for the group to commit all (lag 0) and the subscriber to have all.
  await eventually(async () => new Set(got.map((g) => g.payload)).size >= expected.size ? true : undefined, 60_000, 'every record delivered').catch(() => {})
  const committed = (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions ?? []
  const committedRecords = new Set(inKafka.filter((rec) => rec.offset < Number(committed.find((p) => p.partition === rec.partition)?.offset ?? -1)).map((rec) => rec.payload ?? ''))
  const check = checkAgainstKafka(committedRecords, got)
  // "acknowledged" = records committed in Kafka (the flow's promise that they were delivered); "in Kafka" = distinct arrivals.
  reportFault(t, `k2m: Mosquitto stopped ${OUTAGE_MS / 1000} s, instanceCount 2, a member joining meanwhile`, check)
  t.equal(committedRecords.size, expected.size, `every record committed in the end (${committedRecords.size}/${expected.size}; kcat load sent ${sent})`)
  t.same(check.missing.slice(0, 10), [], `every committed record arrived (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards (per partition order)')
  t.comment(`${expected.size} records, ${got.length} deliveries, ${check.duplicates} duplicates`)
  await checkLedger(t, gw.admin, 'from-kafka')
})
