import t from 'tap'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { startIngress } from '@flowgate/ingress'
import { connectExternalPublisher } from '@flowgate/mqtt'
import { startFaultProxy, eventually } from '@flowgate/testkit'

// The egress' MQTT publisher (Kafka → MQTT) into the ingress, through a fault proxy: a window of QoS 1 publishes is
// black-holed (written, never answered), then the connection is cut. The publisher fails that window and its caller
// (the Kafka → MQTT flow) sends it again, in order, after the reconnect. mqtt.js must not send it a second time from
// its own outgoing store: each message reaches the subscriber once, and the ingress' Receive Maximum is never
// exceeded (a broker that counts in-flight publishes disconnects a client that sends more, 0x93).

const quiet = pino({ level: 'silent' })
const RECEIVE_MAXIMUM = 20
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

t.test('a cut connection: the publisher\'s failed window is sent again only by its caller — once, in order, within Receive Maximum', { timeout: 60_000 }, async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, limits: { receiveMaximum: RECEIVE_MAXIMUM } })
  t.teardown(() => ingress.close())
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: ingress.mqtt.port })
  t.teardown(() => proxy.close())

  const received: string[] = []
  const subscriber = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5, clientId: 'reader' })
  t.teardown(() => subscriber.endAsync(true))
  await subscriber.subscribeAsync('out/#', { qos: 1 })
  subscriber.on('message', (_topic, payload) => received.push(payload.toString()))

  const publisher = connectExternalPublisher({ url: `mqtt://127.0.0.1:${proxy.port}`, options: { protocolVersion: 5, clientId: 'egress-publisher', reconnectPeriod: 100, connectTimeout: 2000 } }, { maxInflightMessages: 50, publishTimeoutMs: 10_000 })
  t.teardown(() => publisher.close())
  await publisher.waitConnected(5000)
  // A DISCONNECT from the ingress (0x93: Receive Maximum exceeded) is what too many publishes in flight earn.
  const disconnects: number[] = []
  publisher.client.on('disconnect', (packet) => disconnects.push(packet.reasonCode ?? 0))
  t.equal(publisher.maxInflight, RECEIVE_MAXIMUM, 'the publisher keeps to the ingress\' Receive Maximum')

  // As the Kafka → MQTT flow does: in order, a window of publishes in flight; a failure stops new ones, and once the
  // window settled everything from the first failure is sent again (at-least-once, in order).
  const N = 400
  let next = 0
  let failures = 0
  let cutDone = false
  const deadline = Date.now() + 40_000
  while (next < N && Date.now() < deadline) {
    if (!publisher.connected) { await sleep(20); continue }
    const from = next
    const window = Array.from({ length: Math.min(RECEIVE_MAXIMUM, N - from) }, (_, i) => from + i)
    const results = await Promise.allSettled(window.map(async (i) => {
      // The window half-way through: black-holed, so none of it reaches the ingress; then the connection is cut.
      if (i === N / 2 && !cutDone) {
        cutDone = true
        proxy.blackHole(true)
        setTimeout(() => proxy.blackHole(false), 300)
      }
      await publisher.publish({ topic: `out/${i % 4}`, payload: Buffer.from(`m-${i}`), qos: 1, retain: false })
    }))
    const firstFailed = results.findIndex((r) => r.status === 'rejected')
    if (firstFailed < 0) { next = from + window.length; continue }
    failures++
    next = from + firstFailed
  }
  t.ok(cutDone && failures > 0, `the cut failed a window of publishes (${failures} window(s) failed)`)
  t.equal(next, N, 'every message published in the end')

  await eventually(async () => new Set(received).size === N ? true : undefined, 10_000, `all ${N} messages at the subscriber (${new Set(received).size})`)
  await sleep(1000)
  const counts = new Map<string, number>()
  for (const m of received) counts.set(m, (counts.get(m) ?? 0) + 1)
  const duplicates = [...counts.entries()].filter(([, n]) => n > 1).map(([m]) => m)
  t.same(duplicates, [], `no message delivered twice (${received.length} deliveries of ${N} messages)`)
  // Order: the subscriber sees each message's first delivery in publish order.
  const firstSeen = [...new Set(received)].map((m) => Number(m.slice(2)))
  t.ok(firstSeen.every((n, i) => i === 0 || n > firstSeen[i - 1]!), 'in publish order')
  t.same(disconnects, [], 'the ingress never disconnected the publisher (Receive Maximum exceeded: 0x93)')
})
