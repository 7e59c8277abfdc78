import t from 'tap'
import kafkajs, { Kafka, logLevel, type AclEntry } from 'kafkajs'
import { startGateway } from '@flowgate/gateway'
import { rig, uniqueTopic, kcatConsume, startTestGateway, eventually, manifests, kafkaEndpoint, dataflow, secret, startDeviceLoad, checkAgainstKafka, reportFault, checkLedger, startSoloBroker } from '@flowgate/testkit'

// Every PUBACK is a promise when an operator takes the write permission away: a Kafka of this file's own checks
// ACLs (StandardAuthorizer, nothing allowed without an ACL); the gateway writes as `device-writer` over SASL PLAIN,
// allowed Write and Describe on its topic. Under load (MQTT 5 and 3.1.1 devices, ~600 msg/s) the Write ACL is
// removed for ~10 s, then granted again: meanwhile the dataflow holds its messages (status NotAuthorized, nothing
// acknowledged, nothing dropped), and afterwards it delivers every one of them, in order per key.

// Not among the names Node detects in kafkajs' CommonJS exports.
const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs
type AclOperation = AclEntry['operation']

const r = await rig()
const users = { admin: 'admin-secret', 'device-writer': 'writer-secret' }
const broker = await startSoloBroker({ authorization: { users, superUsers: ['admin'] } })
t.teardown(() => broker.destroy())

const devices = [
  { clientId: 'v5-a', protocolVersion: 5 as const }, { clientId: 'v5-b', protocolVersion: 5 as const },
  { clientId: 'v3-a', protocolVersion: 4 as const }, { clientId: 'v3-b', protocolVersion: 4 as const }
]
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('Write ACL removed for ~10 s under load, then restored: the dataflow holds, then delivers', { timeout: 120_000 }, async (t) => {
  const admin = new Kafka({ clientId: 'fault-acl-admin', brokers: [broker.saslBootstrap!], sasl: { mechanism: 'plain', username: 'admin', password: users.admin }, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  const topic = uniqueTopic('fault-acl')
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
  const acl = (operation: AclOperation): AclEntry => ({
    resourceType: AclResourceTypes.TOPIC, resourceName: topic, resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:device-writer', host: '*', operation, permissionType: AclPermissionTypes.ALLOW
  })
  await admin.createAcls({ acl: [acl(AclOperationTypes.WRITE), acl(AclOperationTypes.DESCRIBE)] })

  const gw = await startTestGateway(t, startGateway)
  const status = async (): Promise<any> => (await gw.admin.get('/api/v1/namespaces/azure-iot-operations/dataflows/load')).body.status
  const applied = await gw.admin.apply(manifests(
    secret('writer', { username: 'device-writer', password: users['device-writer'] }),
    kafkaEndpoint({ name: 'kafka', host: broker.saslBootstrap!, authentication: { method: 'Sasl', saslSettings: { saslType: 'Plain', secretRef: 'writer' } }, settings: { partitionStrategy: 'Property', partitionKeyProperty: 'device-id', batching: { latencyMs: 5, maxMessages: 500 } } }),
    dataflow({ name: 'load', source: { endpointRef: 'default', dataSources: ['load/#'] }, destination: { endpointRef: 'kafka', dataDestination: topic } })
  ))
  t.equal(applied.status, 200, JSON.stringify(applied.body))
  await eventually(async () => (await status())?.conditions?.[0]?.status === 'True' ? true : undefined, 20_000, 'the dataflow Ready')
  const load = await startDeviceLoad({ url: `mqtt://127.0.0.1:${gw.mqtt.port}`, prefix: 'load', devices, rate: 150 })
  t.teardown(() => load.close())
  await eventually(async () => load.acked.size > 1000 ? true : undefined, 20_000, 'deliveries while writing is allowed')

  const removed = Date.now()
  const { filterResponses } = await admin.deleteAcls({ filters: [acl(AclOperationTypes.WRITE)] })
  t.equal(filterResponses[0]?.matchingAcls.length, 1, 'the Write ACL removed')
  const held = await eventually(async () => {
    const s = await status()
    return s?.conditions?.[0]?.status === 'False' ? s.conditions : undefined
  }, 10_000, 'the dataflow to report it may not write')
  t.match(held[0], { type: 'Ready', status: 'False', reason: 'NotAuthorized' }, `Ready False, NotAuthorized after ${Date.now() - removed} ms: ${held[0].message}`)
  t.match(held[1], { type: 'Degraded', status: 'True', reason: 'NotAuthorized' }, 'Degraded True')
  const frozen = load.acked.size
  await sleep(Math.max(0, removed + 10_000 - Date.now()))
  const during = await status()
  t.equal(load.acked.size, frozen, 'nothing acknowledged while the ACL is missing')
  t.equal(load.failed.size, 0, 'no publish refused: the messages wait')
  t.same(during?.counters?.dropped, {}, `nothing dropped while not authorized (buffered ${during?.counters?.buffered})`)
  t.ok(during?.counters?.buffered > 0, 'the dataflow holds messages meanwhile')

  await admin.createAcls({ acl: [acl(AclOperationTypes.WRITE)] })
  const restored = Date.now()
  await eventually(async () => load.acked.size > frozen + 1500 ? true : undefined, 30_000, 'deliveries once the ACL is back')
  t.comment(`delivering again ${Date.now() - restored} ms after the ACL came back`)
  await eventually(async () => (await status())?.conditions?.[0]?.status === 'True' ? true : undefined, 10_000, 'the dataflow Ready again')
  await sleep(1000)

  await load.stop()
  const records = await kcatConsume(r, 'plaintext', topic, load.sent * 2 + 1000, { bootstrap: broker.bootstrap })
  const check = checkAgainstKafka(load.acked, records)
  reportFault(t, 'Write ACL removed ~10 s, restored', check)
  t.comment(`sent ${load.sent}, acknowledged ${check.acknowledged}, refused/unanswered ${load.failed.size}, in Kafka ${check.inKafka} (${records.length} records), duplicates ${check.duplicates}`)
  t.ok(check.acknowledged > 3000, `load ran (${check.acknowledged} acknowledged)`)
  t.same(check.missing.slice(0, 10), [], `no acknowledged message missing (${check.missing.length} missing)`)
  t.same(check.reordered, [], 'no key\'s sequence goes backwards')
  const ledger = await checkLedger(t, gw.admin, 'load')
  t.same(ledger.dropped, {}, 'nothing dropped in the whole run')
})
