// The Kafka → MQTT flow's publish window is one per instance, shared by the partitions it reads (issue 18, item 9):
// an external broker's Receive Maximum is per connection, and the embedded broker pays in GC for every packet alive.
// Four busy partitions, a destination with room for 8: never more than 8 in flight, every partition moves while the
// others still have records (they take turns), every record arrives once and in offset order per partition.
import t from 'tap'
import { Kafka, logLevel } from 'kafkajs'
import { pino } from 'pino'
import { rig, kafkaConfig, createTopic, uniqueTopic, eventually } from '@flowgate/testkit'
import { startKafkaToMqttFlow } from '../../services/egress/src/kafka-to-mqtt-flow.js'

const PARTITIONS = 4
const PER_PARTITION = 500
const WINDOW = 8

t.test('four partitions share one window of publishes and take turns', async (t) => {
  const r = await rig()
  const kafka = new Kafka({ ...kafkaConfig(r, 'plaintext', 'window-test'), logLevel: logLevel.NOTHING })
  const topic = uniqueTopic('k2m-window')
  await createTopic(topic, PARTITIONS)
  const producer = kafka.producer()
  await producer.connect()
  for (let p = 0; p < PARTITIONS; p++) {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: PER_PARTITION }, (_, i) => ({ partition: p, value: `${p}:${i}` })) })
  }
  await producer.disconnect()

  let inflight = 0
  let most = 0
  const arrived: string[] = []
  const publisher = {
    connected: true,
    maxInflight: WINDOW,
    async publish () {},
    async close () {},
    publishWith (m: { payload: Uint8Array }, cb: (err?: Error) => void) {
      inflight++
      most = Math.max(most, inflight)
      // Completes a little later, as a broker does: the window fills.
      setTimeout(() => { inflight--; arrived.push(Buffer.from(m.payload).toString()); cb() }, 1)
    }
  }
  const flow = startKafkaToMqttFlow({
    name: 'window', namespace: 'default', kafka, groupId: uniqueTopic('window-group'), topics: [topic], instances: 1, instanceId: 0,
    translateSettings: undefined, destinationTopic: 'out/${inputTopic}', qos: 1, retain: false,
    openPublisher: async () => publisher as never,
    observer: { received () {}, sent () {}, dropped () {}, state () {} },
    logger: pino({ level: 'silent' }),
    options: { fromBeginning: true, partitionsConsumedConcurrently: PARTITIONS }
  })
  t.teardown(() => flow.close())
  await eventually(async () => arrived.length >= PARTITIONS * PER_PARTITION ? true : undefined, 60_000, 'every record published')

  t.equal(arrived.length, PARTITIONS * PER_PARTITION, 'every record once')
  t.ok(most <= WINDOW, `at most ${WINDOW} publishes in flight across the partitions (saw ${most})`)
  t.equal(most, WINDOW, 'the window was used in full')
  for (let p = 0; p < PARTITIONS; p++) {
    const order = arrived.filter((x) => x.startsWith(`${p}:`)).map((x) => Number(x.split(':')[1]))
    t.same(order, Array.from({ length: PER_PARTITION }, (_, i) => i), `partition ${p} in offset order`)
  }
  // Taking turns: in the first half of the arrivals, at least two partitions already had records through.
  const firstHalf = new Set(arrived.slice(0, arrived.length / 2).map((x) => x.split(':')[0]))
  t.ok(firstHalf.size >= 2, `partitions interleave (${firstHalf.size} in the first half)`)
})
