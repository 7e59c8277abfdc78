import t from 'tap'
import type { IPublishPacket } from 'mqtt'
import { rawClient, connectPacket } from './raw-mqtt.js'
import { conformance, fresh, recorder, until, sleep } from './mqtt5-brokers.js'

// Rule 2 of issue 17 — the Will Message on a keep-alive timeout (MQTT 5.0 §3.1.2.5 Will Flag, §3.1.2.10 Keep Alive,
// §3.1.3.2 Will Properties): a client that stops sending is closed after 1.5 × its keep-alive [MQTT-3.1.2-22] and
// its Will is published with its properties, user properties included [MQTT-3.1.3-10]; a Will Delay Interval
// (§3.1.3.2.2) delays it, and the session resuming within the delay cancels it [MQTT-3.1.3-9].

/** A device that connects with a Will and keep-alive 2 s, then never sends another byte (a raw client: no PINGREQ). */
async function silentDevice (port: number, clientId: string, willTopic: string, willProperties: Record<string, unknown>, connectProperties: Record<string, unknown> = {}): Promise<{ connackAt: number, closedAt: Promise<number> }> {
  const device = await rawClient(port)
  device.send({
    ...connectPacket(clientId, connectProperties),
    keepalive: 2,
    will: { topic: willTopic, payload: Buffer.from('gone'), qos: 2, retain: false, properties: willProperties }
  })
  await device.next('connack')
  const connackAt = Date.now()
  return { connackAt, closedAt: device.closed.then(() => Date.now()) }
}

async function watcher (url: string, topic: string): Promise<{ got: IPublishPacket[], end: () => Promise<void> }> {
  const w = await recorder(url, { clientId: fresh('watcher') })
  await w.client.subscribeAsync(topic, { qos: 2 })
  return { got: w.got, end: () => w.client.endAsync() }
}

conformance(t, 'a silent client is closed after 1.5 × keep-alive and its Will is published with its user properties', async (t, broker) => {
  const topic = `${fresh('will')}/status`
  const w = await watcher(broker.url, topic)
  t.teardown(w.end)
  const device = await silentDevice(broker.port, fresh('silent'), topic, {
    userProperties: { site: 'plant-7', line: ['3', '4'] },
    contentType: 'text/plain'
  })
  const closedAt = await Promise.race([device.closedAt, sleep(15_000).then(() => -1)])
  t.not(closedAt, -1, 'the broker closed the silent connection')
  t.ok(closedAt - device.connackAt >= 2900, `not before 1.5 × keep-alive (closed after ${closedAt - device.connackAt} ms)`)
  await until(() => w.got.length > 0, 'the Will', 10_000).catch(() => {})
  t.equal(w.got.length, 1, 'the Will was published')
  const will = w.got[0]
  t.equal(will?.payload.toString(), 'gone')
  t.same(will?.properties?.userProperties, { site: 'plant-7', line: ['3', '4'] }, 'its user properties [MQTT-3.1.3-10]')
  t.equal(will?.properties?.contentType, 'text/plain', 'and its other properties')
})

conformance(t, 'the Will Delay Interval delays the Will after a keep-alive timeout', async (t, broker) => {
  const topic = `${fresh('will-delay')}/status`
  const w = await watcher(broker.url, topic)
  t.teardown(w.end)
  const device = await silentDevice(broker.port, fresh('silent-delay'), topic, { willDelayInterval: 2, userProperties: { k: 'v' } }, { sessionExpiryInterval: 60 })
  const closedAt = await Promise.race([device.closedAt, sleep(15_000).then(() => -1)])
  t.not(closedAt, -1, 'the broker closed the silent connection')
  await until(() => w.got.length > 0, 'the delayed Will', 15_000).catch(() => {})
  const willAt = Date.now()
  t.equal(w.got.length, 1, 'the Will was published')
  t.ok(willAt - closedAt >= 1500, `not before its delay (${willAt - closedAt} ms after the close)`)
  t.same(w.got[0]?.properties?.userProperties, { k: 'v' }, 'with its user properties')
  t.equal((w.got[0]?.properties as Record<string, unknown> | undefined)?.willDelayInterval, undefined, 'the Will Delay Interval is not a PUBLISH property')
})

conformance(t, 'the session resuming within the Will Delay Interval cancels the Will', async (t, broker) => {
  const topic = `${fresh('will-cancel')}/status`
  const w = await watcher(broker.url, topic)
  t.teardown(w.end)
  const clientId = fresh('flaky')
  const device = await rawClient(broker.port)
  device.send({
    ...connectPacket(clientId, { sessionExpiryInterval: 60 }),
    will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval: 3 } }
  })
  await device.next('connack')
  device.socket.destroy() // the network drops: no DISCONNECT
  await device.closed
  await sleep(200)
  const back = await recorder(broker.url, { clientId, clean: false, properties: { sessionExpiryInterval: 60 } })
  t.equal(back.sessionPresent, true, 'the session resumed')
  await sleep(4000) // past the delay
  t.same(w.got.map((p) => p.payload.toString()), [], 'no Will: the session came back in time')
  await back.client.endAsync()
})
