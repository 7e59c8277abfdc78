import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync, type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { startIngress, type Ingress } from '../src/ingress.js'
import { recorder, until, sleep } from './mqtt5-brokers.js'

// The durable persistence (persistence-level.ts) under the real broker: what a persistent session and the retained
// messages hold outlives the ingress process's store — closed and opened again on the same directory.

const quiet = pino({ level: 'silent' })

function dataDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-durable-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function open (t: Test, dir: string): Promise<{ ingress: Ingress, url: string }> {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, persistence: { kind: 'dir', dir } })
  let closed = false
  t.teardown(async () => { if (!closed) await ingress.close() })
  const close = ingress.close
  ingress.close = async () => { closed = true; await close() }
  return { ingress, url: `mqtt://127.0.0.1:${ingress.mqtt.port}` }
}

/** A clean-session subscriber on the same filter: once it has a message, the broker has queued it for the offline
 * session too (aedes queues before it forwards live). The barrier before a restart, without a timed wait. */
async function observer (t: Test, url: string, filter: string): Promise<{ got: string[] }> {
  const o = await recorder(url, { clientId: `observer-${filter.replace(/\W/g, '')}` })
  t.teardown(() => o.client.endAsync().catch(() => {}))
  await o.client.subscribeAsync(filter, { qos: 1 })
  return { get got () { return o.got.map((p) => p.payload.toString()) } }
}

async function publishAll (client: MqttClient, topic: string, from: number, to: number): Promise<void> {
  const sent: Array<Promise<unknown>> = []
  for (let i = from; i < to; i++) sent.push(client.publishAsync(topic, String(i), { qos: 1 }))
  await Promise.all(sent)
}

t.test('a persistent v5 session offline while 1,000 QoS 1 messages are queued gets all of them, in order, after the store is closed and reopened', async (t) => {
  const dir = dataDir(t)
  const session = { protocolVersion: 5 as const, clientId: 'sleeper', clean: false, properties: { sessionExpiryInterval: 3600 } }
  let { ingress, url } = await open(t, dir)
  const sleeper = await connectAsync(url, { ...session, clean: true, reconnectPeriod: 0 })
  await sleeper.subscribeAsync('fleet/+/cmd', { qos: 1 })
  await sleeper.endAsync()

  const seen = await observer(t, url, 'fleet/+/cmd')
  const device = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
  await publishAll(device, 'fleet/7/cmd', 0, 1000)
  await device.endAsync()
  await until(() => seen.got.length === 1000, 'the observer has all 1,000 (so they are queued)', 30_000)
  await ingress.close()

  ;({ ingress, url } = await open(t, dir))
  // Published after the restart while the session is still offline: queued too (the loaded subscriptions count).
  const late = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
  await publishAll(late, 'fleet/7/cmd', 1000, 1010)
  await late.endAsync()

  const back = await recorder(url, { ...session })
  t.teardown(() => back.client.endAsync().catch(() => {}))
  t.equal(back.sessionPresent, true, 'Session Present: the session was kept')
  await until(() => back.got.length >= 1010, 'the 1,010 queued messages', 60_000)
  const payloads = back.got.map((p) => Number(p.payload.toString()))
  t.same(payloads, Array.from({ length: 1010 }, (_, i) => i), 'all of them, in the order they were published, none twice')
  t.ok(back.got.every((p) => p.qos === 1 && p.topic === 'fleet/7/cmd'), 'at QoS 1 on their topic')
  await back.client.endAsync()

  // Acknowledged: nothing is delivered again after another restart.
  await ingress.close()
  ;({ ingress, url } = await open(t, dir))
  const again = await recorder(url, { ...session })
  t.teardown(() => again.client.endAsync().catch(() => {}))
  const ping = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
  await ping.publishAsync('fleet/7/cmd', 'after', { qos: 1 })
  await ping.endAsync()
  await until(() => again.got.length > 0, 'the live message')
  t.same(again.got.map((p) => p.payload.toString()), ['after'], 'acknowledged messages are gone from the store; the subscription still there')
})

t.test('retained messages survive a restart; a cleared one stays cleared', async (t) => {
  const dir = dataDir(t)
  let { ingress, url } = await open(t, dir)
  const seen = await observer(t, url, 'site/+/state')
  const publisher = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
  await publisher.publishAsync('site/a/state', 'on', { qos: 1, retain: true, properties: { userProperties: { unit: 'a' }, contentType: 'text/plain' } })
  await publisher.publishAsync('site/b/state', 'off', { qos: 0, retain: true })
  await publisher.publishAsync('site/c/state', 'gone', { qos: 1, retain: true })
  await publisher.publishAsync('site/c/state', '', { qos: 1, retain: true })
  await publisher.endAsync()
  // aedes stores a retained message before it forwards it: the observer having the last one is the barrier.
  await until(() => seen.got.length === 4, 'the observer has the four publishes')
  await ingress.close()

  ;({ ingress, url } = await open(t, dir))
  const sub = await recorder(url, { clientId: 'check-after' })
  t.teardown(() => sub.client.endAsync().catch(() => {}))
  await sub.client.subscribeAsync('site/+/state', { qos: 1 })
  await until(() => sub.got.length >= 2, 'the retained messages after the restart')
  await sleep(200)
  const byTopic = Object.fromEntries(sub.got.map((p) => [p.topic, p]))
  t.same(Object.keys(byTopic).sort(), ['site/a/state', 'site/b/state'], 'both kept, the cleared one not back')
  t.equal(byTopic['site/a/state']?.payload.toString(), 'on')
  t.equal(byTopic['site/a/state']?.retain, true, 'sent as retained')
  t.same(byTopic['site/a/state']?.properties?.userProperties, { unit: 'a' }, 'its MQTT 5 properties kept')
  t.equal(byTopic['site/a/state']?.properties?.contentType, 'text/plain')
  t.equal(byTopic['site/b/state']?.payload.toString(), 'off')
})

t.test('queued messages keep their expiry across a restart: the expired one is dropped, the other arrives with the time waited taken off', async (t) => {
  const dir = dataDir(t)
  const session = { protocolVersion: 5 as const, clientId: 'expiring', clean: false, properties: { sessionExpiryInterval: 3600 } }
  let { ingress, url } = await open(t, dir)
  const first = await connectAsync(url, { ...session, clean: true, reconnectPeriod: 0 })
  await first.subscribeAsync('exp/+', { qos: 1 })
  await first.endAsync()
  const seen = await observer(t, url, 'exp/+')
  const publisher = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
  await publisher.publishAsync('exp/short', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } })
  await publisher.publishAsync('exp/long', 'long', { qos: 1, properties: { messageExpiryInterval: 60, userProperties: { k: 'v' } } })
  await publisher.publishAsync('exp/forever', 'forever', { qos: 1 })
  await publisher.endAsync()
  await until(() => seen.got.length === 3, 'the three queued')
  await ingress.close()
  await sleep(1500) // past the short one's expiry: what is waited for, not a bound on the broker

  ;({ ingress, url } = await open(t, dir))
  const back = await recorder(url, { ...session })
  t.teardown(() => back.client.endAsync().catch(() => {}))
  await until(() => back.got.some((p) => p.payload.toString() === 'forever'), 'the queued messages')
  t.same(back.got.map((p) => p.payload.toString()), ['long', 'forever'], 'the expired message is not delivered [MQTT-3.3.2-5]')
  const long = back.got.find((p) => p.payload.toString() === 'long')
  const remaining = long?.properties?.messageExpiryInterval ?? 60
  t.ok(remaining >= 1 && remaining <= 59, `expiry reduced by the ≥ 1.5 s waited: ${remaining} [MQTT-3.3.2-6]`)
  t.same(long?.properties?.userProperties, { k: 'v' }, 'its MQTT 5 properties kept in the queue')
  t.equal(back.got.find((p) => p.payload.toString() === 'forever')?.properties?.messageExpiryInterval, undefined, 'no expiry where none was set')
})
