import t from 'tap'
import { connectAsync, type IPublishPacket } from 'mqtt'
import { rawClient, connectPacket } from './raw-mqtt.js'
import { conformance, fresh, recorder, until, sleep } from './mqtt5-brokers.js'

// Rule 6 of issue 17 — subscription options (MQTT 5.0 §3.8.3.1): No Local [MQTT-3.8.3-3], Retain As Published
// [MQTT-3.3.1-12/13] and Retain Handling 0/1/2 [MQTT-3.3.1-9/10/11]. A negative ("not sent") is checked after the
// SUBACK and a marker message published after it: the marker's arrival bounds the wait, and anything the broker would
// have sent for the subscription precedes it.

const payloads = (got: IPublishPacket[]): string[] => got.map((p) => p.payload.toString())

conformance(t, 'No Local: a client does not get its own publishes back on that subscription; other clients\' it does', async (t, broker) => {
  const topic = `${fresh('nl')}/x`
  const me = await recorder(broker.url, { clientId: fresh('nl-me') })
  t.teardown(() => me.client.endAsync())
  await me.client.subscribeAsync(topic, { qos: 1, nl: true })
  const other = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(() => other.endAsync())
  await me.client.publishAsync(topic, 'mine-qos0', { qos: 0 })
  await me.client.publishAsync(topic, 'mine-qos1', { qos: 1 })
  await other.publishAsync(topic, 'theirs', { qos: 1 })
  await until(() => payloads(me.got).includes('theirs'), 'the other client\'s message', 10_000).catch(() => {})
  await sleep(200)
  t.same(payloads(me.got), ['theirs'], 'only the other client\'s message')
})

conformance(t, 'Retain As Published: the RETAIN flag is kept on forwarded messages with 1, cleared with 0', async (t, broker) => {
  const topic = `${fresh('rap')}/x`
  const keep = await recorder(broker.url, { clientId: fresh('rap1') })
  const clear = await recorder(broker.url, { clientId: fresh('rap0') })
  t.teardown(() => Promise.all([keep.client.endAsync(), clear.client.endAsync()]))
  await keep.client.subscribeAsync(topic, { qos: 1, rap: true })
  await clear.client.subscribeAsync(topic, { qos: 1, rap: false })
  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.teardown(async () => { await publisher.publishAsync(topic, '', { qos: 1, retain: true }); await publisher.endAsync() })
  await publisher.publishAsync(topic, 'retained', { qos: 1, retain: true })
  await publisher.publishAsync(topic, 'plain', { qos: 1 })
  await until(() => keep.got.length >= 2 && clear.got.length >= 2, 'both messages at both subscribers', 10_000).catch(() => {})
  t.same(keep.got.map((p) => `${p.payload.toString()}:${p.retain}`), ['retained:true', 'plain:false'], 'Retain As Published 1: RETAIN as published')
  t.same(clear.got.map((p) => `${p.payload.toString()}:${p.retain}`), ['retained:false', 'plain:false'], 'Retain As Published 0: RETAIN cleared')
})

conformance(t, 'Retain Handling 0 / 1 / 2 on a first subscribe and on a re-subscribe', async (t, broker) => {
  const prefix = fresh('rh')
  const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 })
  const retainedTopics = [0, 1, 2].map((rh) => `${prefix}/rh${rh}`)
  t.teardown(async () => { for (const topic of retainedTopics) await publisher.publishAsync(topic, '', { qos: 1, retain: true }); await publisher.endAsync() })
  for (const topic of retainedTopics) await publisher.publishAsync(topic, `retained-${topic.slice(-3)}`, { qos: 1, retain: true })

  // A raw client: every SUBSCRIBE and what arrives after its SUBACK, in wire order.
  const c = await rawClient(broker.port)
  t.teardown(() => { c.socket.destroy() })
  c.send(connectPacket(fresh('rh')))
  await c.next('connack')
  let messageId = 0
  let marker = 0
  async function subscribe (rh: 0 | 1 | 2): Promise<string[]> {
    const topic = `${prefix}/rh${rh}`
    const from = c.received.length
    c.send({ cmd: 'subscribe', messageId: ++messageId, subscriptions: [{ topic, qos: 0, rh }] })
    const id = messageId
    await until(() => c.received.slice(from).some((p) => p.cmd === 'suback' && p.messageId === id), 'the SUBACK', 10_000)
    const mark = `marker-${++marker}`
    await publisher.publishAsync(topic, mark, { qos: 0 })
    await until(() => c.received.slice(from).some((p) => p.cmd === 'publish' && p.payload.toString() === mark), 'the marker', 10_000)
    return c.received.slice(from).filter((p): p is IPublishPacket => p.cmd === 'publish' && !p.payload.toString().startsWith('marker-')).map((p) => `${p.payload.toString()}${p.retain ? ' (retained)' : ''}`)
  }
  t.same(await subscribe(0), ['retained-rh0 (retained)'], 'Retain Handling 0: sent on subscribe')
  t.same(await subscribe(0), ['retained-rh0 (retained)'], 'Retain Handling 0: sent again on a re-subscribe')
  t.same(await subscribe(1), ['retained-rh1 (retained)'], 'Retain Handling 1: sent on a new subscription')
  t.same(await subscribe(1), [], 'Retain Handling 1: not on a re-subscribe')
  t.same(await subscribe(2), [], 'Retain Handling 2: not sent on subscribe')
  t.same(await subscribe(2), [], 'Retain Handling 2: not on a re-subscribe either')
})

conformance(t, 're-subscribing replaces the options: No Local, then Retain As Published on the same filter (the interoperability suite\'s sequence)', async (t, broker) => {
  const topic = `${fresh('opts')}/x`
  // A raw client: mqtt.js does not send a SUBSCRIBE for a filter it already holds.
  const a = await rawClient(broker.port)
  t.teardown(() => { a.send({ cmd: 'publish', topic, payload: Buffer.alloc(0), qos: 0, retain: true }); a.socket.end() })
  a.send(connectPacket(fresh('opts-a')))
  await a.next('connack')
  const own = (): string[] => a.received.filter((p): p is IPublishPacket => p.cmd === 'publish').map((p) => `${p.payload.toString()}:${p.retain}`)
  const subacks = (): number => a.received.filter((p) => p.cmd === 'suback').length
  a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0, nl: true }] })
  await until(() => subacks() === 1, 'the first SUBACK', 10_000)
  a.send({ cmd: 'publish', topic, payload: Buffer.from('no local'), qos: 0 })
  a.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic, qos: 0, rap: true }] }) // No Local 0 now
  await until(() => subacks() === 2, 'the second SUBACK', 10_000)
  a.send({ cmd: 'publish', topic, payload: Buffer.from('rap false'), qos: 0 })
  a.send({ cmd: 'publish', topic, payload: Buffer.from('rap true'), qos: 0, retain: true })
  await until(() => own().length >= 2, 'its own two messages', 10_000).catch(() => {})
  await sleep(200)
  t.same(own(), ['rap false:false', 'rap true:true'], 'own messages arrive once No Local is off, RETAIN as published')
}, { referenceDeviates: 'mosquitto 2.0.11 keeps No Local of the replaced subscription [MQTT-3.8.4-3]' })
