import t from 'tap'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { connectAsync } from 'mqtt'
import { conformance, fresh, recorder, until, mosquittoClientsInstalled, MOSQUITTO_SUB, type Broker } from './mqtt5-brokers.js'

// Rule 1 of issue 17 — offline message queueing (MQTT 5.0 §3.1.2.4 Clean Start, §3.1.2.11.2 Session Expiry
// Interval, §4.1 Session State): a session that outlives its connection (Session Expiry Interval > 0) keeps its
// subscriptions and gets the QoS 1 and 2 messages published while it was offline when it resumes with Clean Start 0
// — even when the session was first created with Clean Start 1 [MQTT-3.1.2-5] [MQTT-3.2.2-2], and even when the
// resuming CONNECT carries no Session Expiry Interval (0: the session now ends with this connection, but it is the
// old session that is resumed, queue included — the interoperability suite's test_offline_message_queueing).

/** The device's first connection: Clean Start 1, Session Expiry 99999, a QoS 2 subscription, then gone. */
async function subscribeAndLeave (broker: Broker, clientId: string, topic: string): Promise<void> {
  const first = await connectAsync(broker.url, { protocolVersion: 5, clientId, clean: true, reconnectPeriod: 0, properties: { sessionExpiryInterval: 99999 } })
  await first.subscribeAsync(topic, { qos: 2 })
  await first.endAsync()
}

async function publishQoS012 (broker: Broker, topic: string): Promise<void> {
  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  await publisher.publishAsync(topic, 'qos0', { qos: 0 })
  await publisher.publishAsync(topic, 'qos1', { qos: 1 })
  await publisher.publishAsync(topic, 'qos2', { qos: 2 })
  await publisher.endAsync()
}

conformance(t, 'a session created with Clean Start 1 and Session Expiry 99999 gets its QoS 1 and 2 messages on resuming with Clean Start 0 (mqtt.js)', async (t, broker) => {
  const clientId = fresh('offline')
  const prefix = fresh('offline')
  await subscribeAndLeave(broker, clientId, `${prefix}/+`)
  await publishQoS012(broker, `${prefix}/alarm`)

  // As the interoperability suite resumes: Clean Start 0 and no Session Expiry Interval property.
  const again = await recorder(broker.url, { clientId, clean: false })
  t.teardown(() => again.client.endAsync())
  t.equal(again.sessionPresent, true, 'Session Present 1 [MQTT-3.2.2-2]')
  await until(() => again.got.some((p) => p.payload.toString() === 'qos2'), 'the queued QoS 2 message', 10_000).catch(() => {})
  const received = again.got.map((p) => `${p.payload.toString()}@${p.qos}`).filter((s) => !s.startsWith('qos0'))
  t.same(received, ['qos1@1', 'qos2@2'], 'the QoS 1 and 2 messages, in order, at their QoS (QoS 0 is optional)')
})

conformance(t, 'the same with mosquitto_sub -V mqttv5 -c -x 99999 resuming the session', async (t, broker) => {
  if (!mosquittoClientsInstalled) { t.comment('mosquitto-clients not installed, skipped'); return }
  const clientId = fresh('offline-sub')
  const topic = `${fresh('offline-sub')}/alarm`
  await subscribeAndLeave(broker, clientId, topic)
  await publishQoS012(broker, topic)

  const sub = spawn(MOSQUITTO_SUB, ['-V', 'mqttv5', '-h', broker.host, '-p', String(broker.port), '-i', clientId, '-c', '-x', '99999', '-q', '2', '-t', topic, '-F', '%p', '-W', '15'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const exited = new Promise((resolve) => sub.once('exit', resolve))
  t.teardown(() => { sub.kill('SIGTERM'); return exited })
  createInterface({ input: sub.stdout! }).on('line', (line) => lines.push(line.trim()))
  await until(() => lines.includes('qos2') || sub.exitCode !== null, 'mosquitto_sub to print the queued QoS 2 message', 15_000).catch(() => {})
  t.same(lines.filter((l) => !l.startsWith('qos0')), ['qos1', 'qos2'], 'mosquitto_sub printed the QoS 1 and 2 messages, in order')
})
