import t, { type Test } from 'tap'
import { connectAsync, type IPublishPacket } from 'mqtt'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { startIngress } from '../src/ingress.js'
import type { SharedSubscriptionOptions } from '../src/shared-subscriptions.js'

// A share group without a member: bounded in messages and bytes, expired after a while without members, every drop
// counted in /metrics by group and reason; a 3.1.1 device never gets a success PUBACK for a message a group dropped.
// Message Expiry (§3.3.2.3.3): what a message waited in a group is taken off its Message Expiry Interval.

const quiet = pino({ level: 'silent' })
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

async function ingressWith (t: Test, shared: Partial<SharedSubscriptionOptions>, ackAfterSharedDelivery = true): Promise<{ url: string, registry: Registry, ingress: Awaited<ReturnType<typeof startIngress>> }> {
  const registry = new Registry()
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, ackAfterSharedDelivery, metricsRegistry: registry, sharedSubscriptions: { egressGraceMs: 0, ...shared } })
  t.teardown(() => ingress.close())
  return { url: `mqtt://127.0.0.1:${ingress.mqtt.port}`, registry, ingress }
}

/** `flowgate_share_group_dropped_total{group,reason}` as `group/reason` → count. */
async function drops (registry: Registry): Promise<Record<string, number>> {
  const text = await registry.metrics()
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const m = /^flowgate_share_group_dropped_total\{group="([^"]*)",reason="([^"]*)"\} (\d+)/.exec(line)
    if (m !== null) out[`${m[1]}/${m[2]}`] = Number(m[3])
  }
  return out
}

/** A member joins the group and leaves at once: the group stays, without members. */
async function memberless (url: string, topic: string): Promise<void> {
  const m = await connectAsync(url, { protocolVersion: 5, clientId: `m-${Math.random()}`, reconnectPeriod: 0 })
  await m.subscribeAsync(topic, { qos: 1 })
  await m.endAsync()
}

t.test('a group without members expires after groupExpiryMs: its waiting messages dropped (v5: 0x97), counted, the group gone', { timeout: 20_000 }, async (t) => {
  const { url, registry, ingress } = await ingressWith(t, { groupExpiryMs: 800 })
  await memberless(url, '$share/g1/x/#')
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  t.teardown(() => device.endAsync(true))
  const outcome = await device.publishAsync('x/1', 'held', { qos: 1 }).then(() => 0, (err: { code?: number }) => err.code)
  t.equal(outcome, 0x97, 'the device learns the message was dropped (0x97)')
  t.same(Object.keys(ingress.shared.groups()), [], 'the group is gone')
  t.same(await drops(registry), { 'g1/group-expired': 1 }, 'the drop is in /metrics by group and reason')
  await device.publishAsync('x/2', 'after', { qos: 1 })
  t.pass('later publishes are acknowledged at once: no group takes them')
})

t.test('a full group drops the oldest: a 3.1.1 device gets no success PUBACK for it (left unacknowledged, disconnected)', { timeout: 20_000 }, async (t) => {
  const { url, registry } = await ingressWith(t, { maxQueued: 2 })
  await memberless(url, '$share/g2/y/#')
  const device = await connectAsync(url, { protocolVersion: 4, clientId: 'old-device', reconnectPeriod: 0 })
  t.teardown(() => device.endAsync(true))
  let closed = false
  device.on('close', () => { closed = true })
  const first = device.publishAsync('y/1', 'first', { qos: 1 }).then(() => 'acknowledged', () => 'failed')
  void device.publishAsync('y/2', 'second', { qos: 1 }).catch(() => {})
  void device.publishAsync('y/3', 'third', { qos: 1 }).catch(() => {})
  const verdict = await Promise.race([first, sleep(2000).then(() => 'no PUBACK')])
  t.not(verdict, 'acknowledged', `no success PUBACK for the dropped message (${verdict})`)
  await sleep(300)
  t.ok(closed, 'the device was disconnected, so it sends the message again')
  t.same(await drops(registry), { 'g2/queue-full': 1 })
})

t.test('a group\'s waiting bytes are bounded per group (maxGroupQueuedBytes), oldest dropped', { timeout: 20_000 }, async (t) => {
  const { url, registry, ingress } = await ingressWith(t, { maxGroupQueuedBytes: 10_000 }, false)
  await memberless(url, '$share/g3/z/#')
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  t.teardown(() => device.endAsync(true))
  for (let i = 0; i < 20; i++) await device.publishAsync('z/1', Buffer.alloc(1000, i), { qos: 1 })
  t.ok(ingress.shared.queuedBytes <= 10_000, `at most 10 000 bytes wait (${ingress.shared.queuedBytes})`)
  const d = await drops(registry)
  t.ok((d['g3/queue-bytes'] ?? 0) >= 10, `the oldest dropped for bytes: ${JSON.stringify(d)}`)
})

t.test('Message Expiry: the time a message waited in a group is taken off its interval; an expired one is not delivered', { timeout: 20_000 }, async (t) => {
  const { url, registry } = await ingressWith(t, {}, false)
  await memberless(url, '$share/g4/e/#')
  const device = await connectAsync(url, { protocolVersion: 5, clientId: 'device' })
  t.teardown(() => device.endAsync(true))
  await device.publishAsync('e/1', 'ten', { qos: 1, properties: { messageExpiryInterval: 10 } })
  await device.publishAsync('e/1', 'one', { qos: 1, properties: { messageExpiryInterval: 1 } })
  await device.publishAsync('e/1', 'none', { qos: 1 })
  await sleep(2200)
  const got: IPublishPacket[] = []
  const member = await connectAsync(url, { protocolVersion: 5, clientId: 'late-member' })
  t.teardown(() => member.endAsync(true))
  member.on('message', (_topic, _payload, packet) => got.push(packet))
  await member.subscribeAsync('$share/g4/e/#', { qos: 1 })
  await sleep(500)
  t.same(got.map((p) => p.payload.toString()), ['ten', 'none'], 'the expired message is not delivered')
  const ten = got.find((p) => p.payload.toString() === 'ten')
  const left = ten?.properties?.messageExpiryInterval
  t.ok(left !== undefined && left <= 8 && left >= 7, `the interval is reduced by the ~2 s waited (${left})`)
  t.equal(got.find((p) => p.payload.toString() === 'none')?.properties?.messageExpiryInterval, undefined, 'no interval where none was set')
  t.same(await drops(registry), { 'g4/message-expired': 1 })
})
