import t from 'tap'
import { MqttToKafkaFlow, type PublishOutcome } from '../src/mqtt-to-kafka-flow.js'
import type { InboundMqttMessage, KafkaDestination, OutboundRecord, TranslateToKafka, DestinationError, SendResult } from '../src/ports.js'

const enc = new TextEncoder()
const message = (topic: string, payload: string, qos: 0 | 1 = 1): InboundMqttMessage => ({ topic, payload: enc.encode(payload), qos, retain: false, receivedAt: Date.now() })
const passThrough: TranslateToKafka = (m) => ({ ok: true, record: { topic: 'out', key: null, value: m.payload, headers: [] } })

function destinationError (code: string, permanent: boolean): DestinationError {
  return Object.assign(new Error(code), { code, permanent })
}

/** The fakes are easiest written as async functions; the port calls back. */
function destinationOf<T extends { send: (record: OutboundRecord) => Promise<SendResult> }> (fake: T): KafkaDestination & Omit<T, 'send'> {
  const sendAsync = fake.send
  return {
    ...fake,
    send (record, done) { sendAsync(record).then((result) => done(null, result), (err: DestinationError) => done(err)) },
    async close () {}
  }
}

/** A destination whose sends answer as `script` says, one entry per attempt, then succeed. */
function scriptedDestination (script: Array<'ok' | 'retriable' | 'too-large'> = []): KafkaDestination & { sent: string[] } {
  const sent: string[] = []
  let offset = 0
  return destinationOf({
    sent,
    async send (record: OutboundRecord) {
      await new Promise((resolve) => setImmediate(resolve))
      const step = script.shift() ?? 'ok'
      if (step === 'retriable') throw destinationError('FG_ERR_KAFKA_UNREACHABLE', false)
      if (step === 'too-large') throw destinationError('FG_ERR_KAFKA_TOO_LARGE', true)
      sent.push(new TextDecoder().decode(record.value))
      return { partition: 0, offset: String(offset++) }
    }
  })
}

const fast = { retryMinMs: 5, retryMaxMs: 20 }

// close()'s wait is an unref'd timer (it must not hold a stopping process open): keep this test process alive.
const keepAlive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(keepAlive))

t.test('a publish is acknowledged once the destination acknowledged it', async (t) => {
  const destination = scriptedDestination()
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['factory/#'], translate: passThrough, destination })
  t.equal(flow.matches('factory/oven'), true)
  t.equal(flow.matches('office/door'), false)
  t.same(await flow.accept(message('factory/oven', 'a')), {})
  t.same(destination.sent, ['a'])
})

t.test('a message the translator refuses is dropped with its reason, told to the device as a reason code', async (t) => {
  const dropped: string[] = []
  const flow = new MqttToKafkaFlow({
    name: 'f', namespace: 'default', filters: ['#'], destination: scriptedDestination(),
    translate: () => ({ ok: false, reason: 'invalid-topic', detail: '${inputTopic.5} has no 5th level' }),
    observer: { dropped: (_m, reason) => dropped.push(reason) }
  })
  const outcome = await flow.accept(message('a/b', 'x'))
  t.equal(outcome.reasonCode, 0x90, 'Topic Name invalid')
  t.match(outcome.reasonString, /invalid-topic/)
  t.same(dropped, ['invalid-topic'], 'counted')
})

t.test('a record Kafka refuses for good fails alone; its neighbours are delivered', async (t) => {
  const destination = scriptedDestination(['ok', 'too-large', 'ok'])
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination })
  const outcomes = await Promise.all(['a', 'b', 'c'].map((p) => flow.accept(message('t', p))))
  t.same(outcomes.map((o) => o.reasonCode ?? 0), [0, 0x97, 0])
  t.same(destination.sent, ['a', 'c'])
})

t.test('while Kafka is unreachable messages wait and are retried in arrival order; status goes degraded then ready', async (t) => {
  // An outage: every send fails for 50 ms, as when the broker is down (all in-flight batches fail together).
  const sent: string[] = []
  let down = true
  setTimeout(() => { down = false }, 50)
  const destination = destinationOf({
    async send (record) {
      await new Promise((resolve) => setImmediate(resolve))
      if (down) throw destinationError('FG_ERR_KAFKA_UNREACHABLE', false)
      sent.push(new TextDecoder().decode(record.value))
      return { partition: 0, offset: String(sent.length) }
    }
  })
  const states: string[] = []
  const flow = new MqttToKafkaFlow({
    name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination, options: fast,
    observer: { state: (s, reason) => states.push(reason ? `${s}:${reason}` : s) }
  })
  const outcomes = await Promise.all(['1', '2', '3', '4', '5'].map((p) => flow.accept(message('t', p))))
  t.same(outcomes, [{}, {}, {}, {}, {}], 'every publish acknowledged in the end')
  t.same(sent, ['1', '2', '3', '4', '5'], 'no loss, no duplicate, order kept')
  t.equal(states[0], 'degraded:FG_ERR_KAFKA_UNREACHABLE')
  t.equal(states.at(-1), 'ready')
})

t.test('Message Expiry counts the time spent waiting: a message that expires while Kafka is down is dropped as expired', async (t) => {
  let clock = 1_000_000
  const destination = scriptedDestination(['retriable'])
  const translate: TranslateToKafka = (m, now) => {
    const remaining = 10 - Math.floor((now - m.receivedAt) / 1000)
    return remaining > 0 ? passThrough(m, now) : { ok: false, reason: 'expired' }
  }
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate, destination, options: fast, now: () => clock })
  const pending = flow.accept({ ...message('t', 'late'), receivedAt: clock })
  await new Promise((resolve) => setImmediate(resolve))
  clock += 11_000
  const outcome = await pending
  t.match(outcome.reasonString, /^expired/)
  t.same(destination.sent, [])
})

t.test('a full buffer drops QoS 0 and holds QoS 1 unacknowledged until there is room', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const sent: string[] = []
  const destination = destinationOf({
    async send (record) { await gate; sent.push(new TextDecoder().decode(record.value)); return { partition: 0, offset: '0' } }
  })
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination, options: { bufferMessages: 2 } })
  const first = [flow.accept(message('t', 'a')), flow.accept(message('t', 'b'))]
  const qos0 = await flow.accept(message('t', 'dropped', 0))
  t.equal(qos0.reasonString, 'buffer-full', 'QoS 0 past the buffer is dropped and counted')
  let thirdSettled = false
  const third = flow.accept(message('t', 'c')).then((o: PublishOutcome) => { thirdSettled = true; return o })
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(thirdSettled, false, 'QoS 1 past the buffer is not acknowledged yet')
  t.equal(flow.buffered, 3)
  release()
  t.same(await Promise.all([...first, third]), [{}, {}, {}])
  t.same(sent, ['a', 'b', 'c'])
})

t.test('closing a flow lets what is in flight finish', async (t) => {
  const destination = scriptedDestination()
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination })
  const inFlight = flow.accept(message('t', 'a'))
  await flow.close()
  t.same(await inFlight, {})
  t.same(await flow.accept(message('t', 'late')), { unacknowledged: true, reasonString: 'dataflow-stopped' }, 'after close: left unacknowledged, the device resends')
})

t.test('closing a flow whose destination is down leaves its messages unacknowledged, never "done" nor dropped with a code', async (t) => {
  const dropped: string[] = []
  const destination = destinationOf({ async send (): Promise<SendResult> { throw destinationError('FG_ERR_KAFKA_UNREACHABLE', false) } })
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination, options: fast, observer: { dropped: (_m, reason) => dropped.push(reason) } })
  const outcomes = [flow.accept(message('t', 'a')), flow.accept(message('t', 'b')), flow.accept(message('t', 'c', 0))]
  await new Promise((resolve) => setTimeout(resolve, 30))
  await flow.close(50)
  t.same(await Promise.all(outcomes), [{ unacknowledged: true, reasonString: 'dataflow-stopped' }, { unacknowledged: true, reasonString: 'dataflow-stopped' }, { reasonCode: 0x83, reasonString: 'dataflow-stopped' }])
  t.same(dropped.sort(), ['dataflow-stopped', 'unacknowledged', 'unacknowledged'], 'counted in the ledger: QoS 0 lost, QoS 1 returned to the device')
})

t.test('a send that fails after close() gave up is still settled (left unacknowledged), so the device\'s PUBACK queue moves on', async (t) => {
  let fail!: () => void
  const destination = destinationOf({ async send (): Promise<SendResult> { await new Promise<void>((resolve) => { fail = resolve }); throw destinationError('FG_ERR_KAFKA_UNREACHABLE', false) } })
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination, options: fast })
  const outcome = flow.accept(message('t', 'a'))
  await flow.close(20)
  fail()
  t.same(await outcome, { unacknowledged: true, reasonString: 'dataflow-stopped' })
  t.equal(flow.buffered, 0)
})

t.test('with a remote translator answering out of order, records still leave in arrival order', async (t) => {
  const destination = scriptedDestination()
  const delays = [30, 1, 15]
  let i = 0
  const translate: TranslateToKafka = (m, now) => new Promise((resolve) => setTimeout(() => resolve(passThrough(m, now)), delays[i++] ?? 0))
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate, destination })
  await Promise.all(['a', 'b', 'c'].map((p) => flow.accept(message('t', p))))
  t.same(destination.sent, ['a', 'b', 'c'])
})

t.test('while the translator cannot answer, messages wait and go once it is back; none is lost', async (t) => {
  const destination = scriptedDestination()
  let down = 2
  const states: string[] = []
  const translate: TranslateToKafka = async (m, now) => { if (down-- > 0) throw new Error('connect ECONNREFUSED'); return passThrough(m, now) }
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate, destination, options: fast, observer: { state: (s, code) => states.push(`${s}:${code ?? ''}`) } })
  const outcomes = await Promise.all(['a', 'b'].map((p) => flow.accept(message('t', p))))
  t.same(outcomes, [{}, {}])
  t.same(destination.sent, ['a', 'b'])
  t.equal(states[0], 'degraded:FG_ERR_TRANSLATOR_UNAVAILABLE')
})

t.test('a wrong credential holds the messages and reports it; nothing is dropped for it', async (t) => {
  let authOk = false
  const sent: string[] = []
  const destination = destinationOf({
    async send (record) {
      if (!authOk) throw destinationError('FG_ERR_KAFKA_AUTH_FAILED', true)
      sent.push(new TextDecoder().decode(record.value))
      return { partition: 0, offset: '0' }
    }
  })
  const states: string[] = []
  const dropped: string[] = []
  const flow = new MqttToKafkaFlow({
    name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination, options: fast,
    observer: { state: (s, code) => states.push(`${s}:${code ?? ''}`), dropped: (_m, reason) => dropped.push(reason) }
  })
  const outcome = flow.accept(message('t', 'held'))
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(states[0], 'degraded:FG_ERR_KAFKA_AUTH_FAILED')
  t.same(dropped, [], 'not dropped')
  authOk = true // the user fixed the Secret
  t.same(await outcome, {})
  t.same(sent, ['held'])
})

t.test('the buffer is bounded in bytes too: past bufferBytes QoS 1 waits unacknowledged and QoS 0 is dropped', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  const sent: string[] = []
  const destination = destinationOf({ async send (record: OutboundRecord): Promise<SendResult> { await gate; sent.push(new TextDecoder().decode(record.value)); return { partition: 0, offset: '0' } } })
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination, options: { bufferBytes: 10 } })
  const first = [flow.accept(message('t', 'aaaaaa')), flow.accept(message('t', 'bbbbbb'))] // 12 bytes: the second crosses 10
  t.equal((await flow.accept(message('t', 'q0', 0))).reasonString, 'buffer-full', 'QoS 0 past the byte bound is dropped')
  let waited = false
  const third = flow.accept(message('t', 'cc')).then((o) => { waited = true; return o })
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(waited, false, 'QoS 1 past the byte bound is not acknowledged yet')
  release()
  t.same(await Promise.all([...first, third]), [{}, {}, {}])
  t.same(sent, ['aaaaaa', 'bbbbbb', 'cc'])
})

t.test('sends failing one by one after a hand-over reach the successor in arrival order', async (t) => {
  const fails: Array<() => void> = []
  const stuck = destinationOf({ async send (): Promise<SendResult> { await new Promise<void>((resolve) => fails.push(resolve)); throw destinationError('FG_ERR_KAFKA_UNREACHABLE', false) } })
  const previous = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination: stuck, options: fast })
  const next = scriptedDestination()
  const successor = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination: next, options: fast, held: true })
  const outcomes = ['a', 'b', 'c'].map((p) => previous.accept(message('t', p)))
  await new Promise((resolve) => setImmediate(resolve))
  await previous.handOver(successor, 10) // a, b, c still in flight when it gives up waiting
  outcomes.push(successor.accept(message('t', 'd')))
  for (const fail of fails.splice(0)) fail() // they fail in order, each handed to the successor alone
  await new Promise((resolve) => setTimeout(resolve, 10))
  successor.release()
  await Promise.all(outcomes)
  t.same(next.sent, ['a', 'b', 'c', 'd'])
})

t.test('a destination that answers nothing for stallAfterMs marks the flow degraded; its first answer makes it ready', async (t) => {
  const answers: Array<() => void> = []
  const destination: KafkaDestination = {
    send (_record, done) { answers.push(() => done(null, { partition: 0, offset: '0' })) },
    async close () {}
  }
  const states: string[] = []
  const flow = new MqttToKafkaFlow({
    name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination,
    options: { stallAfterMs: 200 },
    observer: { state: (state, code) => states.push(code === undefined ? state : `${state} ${code}`) }
  })
  const outcome = flow.accept(message('a', '1'))
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(states, [], 'not yet: an answer may take a while')
  await new Promise((resolve) => setTimeout(resolve, 1200))
  t.same(states, ['degraded FG_ERR_KAFKA_NOT_ANSWERING'], 'said once, while the send is still unanswered')
  for (const answer of answers.splice(0)) answer()
  t.same(await outcome, {}, 'acknowledged when Kafka answers')
  t.same(states, ['degraded FG_ERR_KAFKA_NOT_ANSWERING', 'ready'])
  await flow.close()
})

t.test('a publish offered from inside a PUBACK (a paused device resumed) does not overtake one waiting for room', async (t) => {
  const answers: Array<() => void> = []
  const sent: string[] = []
  const destination: KafkaDestination = {
    send (record, done) { sent.push(new TextDecoder().decode(record.value)); answers.push(() => done(null, { partition: 0, offset: '0' })) },
    async close () {}
  }
  const flow = new MqttToKafkaFlow({ name: 'f', namespace: 'default', filters: ['#'], translate: passThrough, destination, options: { bufferMessages: 2 } })
  const outcomes: Array<Promise<PublishOutcome>> = []
  // a's PUBACK resumes the device, whose next publish (d) arrives while the flow is still settling a.
  flow.offer(message('t', 'a'), { settle: () => { outcomes.push(flow.accept(message('t', 'd'))) } })
  outcomes.push(flow.accept(message('t', 'b')), flow.accept(message('t', 'c')))
  t.same(sent, ['a', 'b'], 'c waits for room')
  // Kafka answers each send in turn (four in all).
  for (let i = 0; i < 4; i++) {
    answers.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(await Promise.all(outcomes), [{}, {}, {}])
  t.same(sent, ['a', 'b', 'c', 'd'], 'in arrival order')
})
