import { createRequire } from 'node:module'
import t from 'tap'
import fc from 'fast-check'
import { connect, connectAsync } from 'mqtt'
import { pino } from 'pino'
import { startIngress } from '../src/ingress.js'
import { createSessionPersistence, type SubscriptionStore } from '../src/persistence.js'

interface Store extends SubscriptionStore {
  subscriptionsByTopic: (topic: string) => Promise<Array<{ clientId: string, topic: string, qos: number }>>
  countOffline: () => Promise<{ subsCount: number }>
}
const plainMemoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => Store

const clients = ['a', 'b', 'c']
const filters = ['x/1', 'x/2', 'x/+', 'x/#', '#', 'y/z']
const topics = ['x/1', 'x/2', 'x/3', 'y/z', 'q']
const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), client: fc.constantFrom(...clients), subs: fc.array(fc.record({ topic: fc.constantFrom(...filters), qos: fc.constantFrom(0, 1, 2) }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('remove' as const), client: fc.constantFrom(...clients), topics: fc.array(fc.constantFrom(...filters), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('clean' as const), client: fc.constantFrom(...clients) })
)
type Op = typeof op extends fc.Arbitrary<infer O> ? O : never

async function apply (store: Store, o: Op): Promise<void> {
  const client = { id: o.client }
  if (o.kind === 'add') await store.addSubscriptions(client, o.subs)
  else if (o.kind === 'remove') await store.removeSubscriptions(client, o.topics)
  else await store.cleanSubscriptions(client)
}
const matched = async (store: Store, topic: string): Promise<string[]> =>
  (await store.subscriptionsByTopic(topic)).map((s) => `${s.clientId} ${s.topic} ${s.qos}`).sort()

t.test('the short cut answers every topic as the plain memory persistence does, after any subscribe/unsubscribe/clean sequence', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
    const session = createSessionPersistence()
    const fast = session.persistence as Store
    const plain = plainMemoryPersistence()
    for (const o of ops) {
      await apply(fast, o)
      await apply(plain, o)
      for (const topic of topics) t.same(await matched(fast, topic), await matched(plain, topic), `${topic} after ${JSON.stringify(o)}`)
      t.equal(session.persistentSubscriptions(), (await plain.countOffline()).subsCount, 'the count is the trie\'s')
    }
  }), { numRuns: 200 })
})

t.test('a persistent session still gets the QoS 1 messages published while it was offline', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: pino({ level: 'silent' }) })
  t.teardown(() => ingress.close())
  const url = `mqtt://127.0.0.1:${ingress.mqtt.port}`
  const session = { protocolVersion: 5 as const, clientId: 'sleeper', clean: false, properties: { sessionExpiryInterval: 300 } }
  const sleeper = await connectAsync(url, session)
  await sleeper.subscribeAsync('plant/+/alarm', { qos: 1 })
  await sleeper.endAsync()

  const device = await connectAsync(url, { protocolVersion: 5 })
  t.teardown(() => device.endAsync())
  await device.publishAsync('plant/7/alarm', 'overheat', { qos: 1 })
  await device.publishAsync('plant/7/telemetry', 'not subscribed', { qos: 1 })

  // Listening before the CONNECT goes out: the queued message may follow the CONNACK at once.
  const back = connect(url, { ...session, manualConnect: true })
  t.teardown(() => back.endAsync())
  const got = new Promise<[string, string]>((resolve) => back.once('message', (topic, payload) => resolve([topic, payload.toString()])))
  back.connect()
  t.same(await got, ['plant/7/alarm', 'overheat'], 'the message queued while offline arrives on reconnect')

  await back.unsubscribeAsync('plant/+/alarm')
  await back.endAsync()
  await device.publishAsync('plant/7/alarm', 'after unsubscribe', { qos: 1 })
  const again = await connectAsync(url, session)
  t.teardown(() => again.endAsync())
  let late: string | undefined
  again.on('message', (_topic, payload) => { late = payload.toString() })
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(late, undefined, 'nothing is queued for a subscription the session gave up')
})
