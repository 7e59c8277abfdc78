import t from 'tap'
import { once } from 'node:events'
import { createTailHub, tailObserver, TAIL_CLOSE } from '../src/tail/index.js'
import { connect, event, tailServer, until } from './tail-helpers.js'

t.test('a client with the bearer header receives the frames of DESIGN §3', async (t) => {
  const s = await tailServer(t)
  const c = connect(s.wsUrl, { authorization: `Bearer ${s.token}` })
  await until(() => s.hub.readers === 1, 'subscription')
  s.hub.publish(event())
  await until(() => c.frames.length === 1, 'a frame')
  t.same(c.frames[0], {
    ts: '1970-01-01T00:00:00.000Z',
    dataflow: 'df',
    namespace: 'default',
    direction: 'mqtt-to-kafka',
    source: { topic: 'factory/line1/temp', properties: { qos: 1, retain: false } },
    destination: { topic: 'telemetry', partition: 0, offset: '7', headers: {} },
    payload: { encoding: 'utf8', data: '{"t":21.5}' }
  })
  c.ws.close()
  await c.closed
  await until(() => s.hub.readers === 0, 'the reader to leave the hub')
  t.equal(s.hub.hasReaders, false, 'a closed socket leaves no reader behind')
})

t.test('a browser-style client authenticates with a first auth message', async (t) => {
  const s = await tailServer(t)
  const c = connect(s.wsUrl)
  await once(c.ws, 'open')
  c.ws.send(JSON.stringify({ type: 'auth', token: s.token }))
  await until(() => s.hub.readers === 1, 'subscription')
  s.hub.publish(event())
  await until(() => c.frames.length === 1, 'a frame')
  t.equal(c.frames[0].dataflow, 'df')
  c.ws.close()
})

t.test('a wrong token is refused with 4401 and a reason, by header or by message', async (t) => {
  const s = await tailServer(t)
  const byHeader = connect(s.wsUrl, { authorization: 'Bearer nope' })
  const h = await byHeader.closed
  t.equal(h.code, TAIL_CLOSE.unauthorized)
  t.match(h.reason, /token/)

  const byMessage = connect(s.wsUrl)
  await once(byMessage.ws, 'open')
  byMessage.ws.send(JSON.stringify({ type: 'auth', token: 'nope' }))
  const m = await byMessage.closed
  t.equal(m.code, TAIL_CLOSE.unauthorized)
  t.match(m.reason, /token/)

  const notAuth = connect(s.wsUrl)
  await once(notAuth.ws, 'open')
  notAuth.ws.send('hello')
  t.equal((await notAuth.closed).code, TAIL_CLOSE.unauthorized)
  t.equal(s.hub.readers, 0, 'no refused client ever subscribed')
})

t.test('a client that never authenticates is closed after 5 seconds', async (t) => {
  const s = await tailServer(t)
  const c = connect(s.wsUrl)
  const closed = await c.closed
  t.equal(closed.code, TAIL_CLOSE.unauthorized)
  t.match(closed.reason, /auth/)
})

t.test('a bad query closes with 4400 naming the parameter', async (t) => {
  const s = await tailServer(t)
  const auth = { authorization: `Bearer ${s.token}` }
  for (const [q, name] of [['direction=sideways', 'direction'], ['topic=a/%23/b', 'topic'], ['maxPayload=-1', 'maxPayload']]) {
    const closed = await connect(`${s.wsUrl}?${q}`, auth).closed
    t.equal(closed.code, TAIL_CLOSE.badRequest, q!)
    t.match(closed.reason, name!)
  }
})

t.test('filters: dataflow, namespace, MQTT topic filter and direction', async (t) => {
  const s = await tailServer(t)
  const auth = { authorization: `Bearer ${s.token}` }
  const byFlow = connect(`${s.wsUrl}?dataflow=a`, auth)
  const byNs = connect(`${s.wsUrl}?namespace=prod`, auth)
  const byTopic = connect(`${s.wsUrl}?topic=${encodeURIComponent('factory/+/temp')}`, auth)
  const byDirection = connect(`${s.wsUrl}?direction=kafka-to-mqtt`, auth)
  await until(() => s.hub.readers === 4, 'subscriptions')
  s.hub.publish(event({ dataflow: 'a', source: { topic: 'factory/l1/temp' } }))
  s.hub.publish(event({ dataflow: 'b', namespace: 'prod', source: { topic: 'factory/l1/humidity' } }))
  s.hub.publish(event({ dataflow: 'c', direction: 'kafka-to-mqtt', source: { topic: 'telemetry' }, destination: { topic: 'factory/l2/temp' } }))
  s.hub.publish(event({ dataflow: 'last', namespace: 'prod', direction: 'kafka-to-mqtt', source: { topic: 'x' }, destination: { topic: 'factory/z/temp' } }))
  await until(() => byFlow.frames.length >= 1 && byNs.frames.length >= 2 && byTopic.frames.length >= 3 && byDirection.frames.length >= 2, 'frames')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(byFlow.frames.map((f) => f.dataflow), ['a'])
  t.same(byNs.frames.map((f) => f.dataflow), ['b', 'last'])
  t.same(byTopic.frames.map((f) => f.dataflow), ['a', 'c', 'last'], 'the filter applies to the MQTT side of either direction')
  t.same(byDirection.frames.map((f) => f.dataflow), ['c', 'last'])
  for (const c of [byFlow, byNs, byTopic, byDirection]) c.ws.close()
})

t.test('payloads are cut at maxPayload and binary ones sent as base64', async (t) => {
  const s = await tailServer(t)
  const c = connect(`${s.wsUrl}?maxPayload=2`, { authorization: `Bearer ${s.token}` })
  await until(() => s.hub.readers === 1, 'subscription')
  s.hub.publish(event({ payload: Buffer.from('héllo world') }))
  s.hub.publish(event({ payload: Buffer.from([0xff, 0x00, 0x01]) }))
  await until(() => c.frames.length === 2, 'frames')
  t.same(c.frames[0].payload, { encoding: 'utf8', data: 'h', truncated: true, size: 12 }, 'never half a UTF-8 character')
  t.same(c.frames[1].payload, { encoding: 'base64', data: Buffer.from([0xff, 0x00]).toString('base64'), truncated: true, size: 3 })
  c.ws.close()
})

t.test('a reader that stops reading loses frames, counted in the next frame it gets', async (t) => {
  const s = await tailServer(t)
  const c = connect(s.wsUrl, { authorization: `Bearer ${s.token}` })
  await until(() => s.hub.readers === 1 && c.ws.readyState === c.ws.OPEN, 'subscription')
  c.ws.pause() // (a no-op while the client is still CONNECTING, hence the readyState above)
  const payload = Buffer.alloc(2048, 'x')
  const total = 20_000
  for (let i = 0; i < total; i++) {
    s.hub.publish(event({ payload, destination: { topic: 'telemetry', offset: String(i) } }))
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
  }
  c.ws.resume()
  // The queue is still full when reading resumes, so a marker may itself be dropped (and counted): send until one lands.
  let markers = 0
  await until(() => {
    if (c.frames.at(-1)?.dataflow === 'marker') return true
    s.hub.publish(event({ dataflow: 'marker' }))
    markers++
    return false
  }, 'a marker frame', 60_000)
  // Markers sent while an earlier one was on its way can still be in flight when one lands: wait for them. A frame
  // lost without being counted never arrives, so the equality below still fails for it.
  const droppedSoFar = (): number => c.frames.reduce((n, f) => n + (f.dropped ?? 0), 0)
  await until(() => c.frames.length + droppedSoFar() >= total + markers, 'the markers still in flight', 5_000).catch(() => {})
  const dropped = droppedSoFar()
  t.ok(dropped > 0, `frames were dropped (${dropped}) rather than queued without bound`)
  t.equal(c.frames.length + dropped, total + markers, 'every frame is either delivered or counted as dropped')
  const offsets = c.frames.filter((f) => f.dataflow !== 'marker').map((f) => Number(f.destination.offset))
  t.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), 'what arrives keeps its order')
  c.ws.close()
})

t.test('nothing is built for the tail while nobody listens', async (t) => {
  const hub = createTailHub()
  let touched = 0
  const spy = <T extends object>(o: T): T => new Proxy(o, { get (target, key) { touched++; return Reflect.get(target, key) } })
  const observer = tailObserver(hub)
  observer.sentToKafka(spy({ name: 'df', namespace: 'default' }), spy({ topic: 't', payload: Buffer.from('x'), qos: 1, retain: false }),
    spy({ topic: 'k', key: null, value: Buffer.from('x'), headers: [] }), spy({ partition: 0, offset: '0' }))
  t.equal(touched, 0, 'the observer returned before reading the message')

  const reader = hub.subscribe({})
  observer.sentToKafka(spy({ name: 'df', namespace: 'default' }), spy({ topic: 't', payload: Buffer.from('x'), qos: 1, retain: false }),
    spy({ topic: 'k', key: Buffer.from('key'), value: Buffer.from('x'), headers: [['Content Type', Buffer.from('text/plain')]] }), spy({ partition: 2, offset: '9' }))
  t.ok(touched > 0)
  const item = reader.shift()
  t.same(item?.event.destination, { topic: 'k', partition: 2, offset: '9', key: 'key', headers: { 'Content Type': 'text/plain' } })
  reader.close()
  t.equal(hub.hasReaders, false)
})

t.test('a reader with a full queue costs a count, not a frame', async (t) => {
  const hub = createTailHub()
  const reader = hub.subscribe({ dataflow: 'df' }, { maxQueue: 1 })
  let built = 0
  const key = { dataflow: 'df', namespace: 'default', direction: 'mqtt-to-kafka' as const, mqttTopic: 'a/b' }
  const build = (): ReturnType<typeof event> => { built++; return event() }
  hub.publishLazy(key, build)
  hub.publishLazy(key, build)
  hub.publishLazy(key, build)
  hub.publishLazy({ ...key, dataflow: 'other' }, build)
  t.equal(built, 1, 'built once for the one slot; the full queue and the other dataflow built nothing')
  t.equal(reader.shift()?.dropped, 0)
  hub.publishLazy(key, build)
  t.equal(reader.shift()?.dropped, 2, 'the next frame says two were dropped')
  reader.close()
})

t.test('Kafka → MQTT records become frames too: source topic, offset, key and headers; destination topic and properties', async (t) => {
  const hub = createTailHub()
  const observer = tailObserver(hub, () => 0)
  observer.sentToMqtt({ name: 'from-kafka', namespace: 'default' }, { topic: 'orders', offset: '3', key: null, headers: [] },
    { topic: 'orders/mqtt', payload: Buffer.from('nobody listens'), qos: 1, retain: false })
  const reader = hub.subscribe({ direction: 'kafka-to-mqtt', topic: 'orders/#' })
  observer.sentToMqtt({ name: 'from-kafka', namespace: 'default' }, { topic: 'orders', offset: '4', key: Buffer.from('o-1'), headers: [['site', Buffer.from('north')]] },
    { topic: 'orders/mqtt', payload: Buffer.from('{"n":1}'), qos: 1, retain: false, properties: { userProperties: { site: 'north' } } })
  const item = reader.shift()
  t.same(item?.event.source, { topic: 'orders', offset: '4', key: 'o-1', headers: { site: 'north' } })
  t.same(item?.event.destination, { topic: 'orders/mqtt', properties: { userProperties: { site: 'north' }, qos: 1, retain: false } })
  t.equal(item?.event.direction, 'kafka-to-mqtt')
  t.equal(reader.shift(), undefined, 'the frame published with no reader was never queued')
  reader.close()
})
