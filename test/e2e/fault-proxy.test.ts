import t from 'tap'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel, type KafkaConfig, type Producer } from 'kafkajs'
import { startFaultProxy, startBrokerBehindProxy, uniqueTopic } from '@flowgate/testkit'

// The fault proxy (test/kit/src/fault-proxy.ts) between kafkajs and a Kafka of this test's own, which advertises the
// proxy's port so that every connection after the bootstrap one goes through it too. Each fault is shown with what
// kafkajs 2.2.4 really does about it: what a gateway built on it has to expect before it sends a PUBACK.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The error a promise rejects with (fails the test when it resolves). */
type KafkaError = Error & { type?: string, retriable?: boolean, cause?: Error & { type?: string } }
async function rejection (p: Promise<unknown>): Promise<KafkaError> {
  try {
    await p
  } catch (err) {
    return err as KafkaError
  }
  throw new Error('expected a rejection')
}

const describe = (err: KafkaError): string =>
  `${err.name}${err.type ? ` ${err.type}` : ''} retriable=${String(err.retriable)}: ${err.message}` +
  (err.cause ? ` ← ${err.cause.name}${err.cause.type ? ` ${err.cause.type}` : ''}` : '')

t.test('frames cut anywhere: the Produce response is found and rewritten, everything else passes byte for byte', async (t) => {
  // A fake broker answers each request frame with a Produce v7 response of two topics, one byte per write, and
  // the client writes its requests one byte at a time: every header and frame straddles chunks.
  const response = (correlationId: number): Buffer => {
    const topic = (name: string, partitions: number[]): Buffer[] => {
      const out = [Buffer.alloc(2), Buffer.from(name), Buffer.alloc(4)]
      out[0]!.writeInt16BE(name.length); out[2]!.writeInt32BE(partitions.length)
      for (const p of partitions) {
        const b = Buffer.alloc(4 + 2 + 8 + 8 + 8)
        b.writeInt32BE(p, 0); b.writeBigInt64BE(42n, 6); b.writeBigInt64BE(-1n, 14); b.writeBigInt64BE(0n, 22)
        out.push(b)
      }
      return out
    }
    const count = Buffer.alloc(4); count.writeInt32BE(2)
    const body = Buffer.concat([count, ...topic('other', [0]), ...topic('wanted', [3, 4]), Buffer.alloc(4)])
    const head = Buffer.alloc(8); head.writeInt32BE(4 + body.length, 0); head.writeInt32BE(correlationId, 4)
    return Buffer.concat([head, body])
  }
  const request = (apiKey: number, version: number, correlationId: number): Buffer => {
    const b = Buffer.alloc(4 + 8 + 2 + 20)
    b.writeInt32BE(b.length - 4, 0); b.writeInt16BE(apiKey, 4); b.writeInt16BE(version, 6); b.writeInt32BE(correlationId, 8); b.writeInt16BE(-1, 12)
    return b
  }
  const dribble = async (socket: Socket, data: Buffer): Promise<void> => {
    for (const byte of data) { socket.write(Buffer.of(byte)); await sleep(1) }
  }
  const fake = createServer((s) => {
    s.on('error', () => {})
    let buffered = Buffer.alloc(0)
    s.on('data', (d: Buffer) => {
      buffered = Buffer.concat([buffered, d])
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const correlationId = buffered.readInt32BE(8)
        buffered = buffered.subarray(4 + buffered.readInt32BE(0))
        void dribble(s, response(correlationId))
      }
    })
  })
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => fake.close(resolve)))
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: (fake.address() as AddressInfo).port })
  t.teardown(() => proxy.close())

  const client = connect(proxy.port, '127.0.0.1')
  client.on('error', () => {}) // the proxy resets it when closed
  t.teardown(() => client.destroy())
  let received = Buffer.alloc(0)
  client.on('data', (d: Buffer) => { received = Buffer.concat([received, d]) })
  const exchange = async (req: Buffer, correlationId: number): Promise<Buffer> => {
    const expected = response(correlationId).length
    const before = received.length
    await dribble(client, req)
    while (received.length < before + expected) await sleep(5)
    return received.subarray(before, before + expected)
  }
  await new Promise((resolve) => client.once('connect', resolve))

  t.same(await exchange(request(0, 7, 1), 1), response(1), 'nothing armed: the response passes as it came')
  proxy.failNextProduce(6, { topic: 'wanted' })
  t.same(await exchange(request(3, 12, 2), 2), response(2), 'a Metadata response is not touched while armed')
  const rewritten = await exchange(request(0, 7, 3), 3)
  const expected = response(3)
  const at = expected.indexOf(Buffer.from('wanted')) + 6 + 4 + 4 // name, partition count, partition
  expected.writeInt16BE(6, at)
  t.same(rewritten, expected, 'the first partition of the named topic (not of the first topic) got error code 6')
  t.same(proxy.rewrites, [{ correlationId: 3, version: 7, topic: 'wanted', partition: 3, originalErrorCode: 0, errorCode: 6 }])
  t.same(await exchange(request(0, 7, 4), 4), response(4), 'once: the next Produce response passes untouched')
  t.equal(proxy.rewritten, 1)
  t.equal(proxy.bytesUp, 4 * request(0, 7, 1).length)
  t.equal(proxy.bytesDown, 4 * response(1).length)
})

t.test('a connection reset right after its FIN was queued: the process still exits (abortSocket, used by cut and black-hole)', async (t) => {
  // In a process of its own, because what failed was the exit: with resetAndDestroy() the reset is refused (EINVAL)
  // and Node spins in its exit cleanup forever. A test file of the fault suite hung that way after its tests passed.
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { createServer, connect } from 'node:net'
    import { abortSocket } from ${JSON.stringify(fileURLToPath(new URL('../kit/src/abort-socket.ts', import.meta.url)))}
    const server = createServer((s) => {
      s.on('error', (err) => { console.log('error ' + err.code); process.exitCode = 3 })
      s.write('x')
      s.end()
      abortSocket(s) // the same tick as end(): the shutdown is still pending in libuv
      server.close(() => peer.destroy())
    })
    let peer
    server.listen(0, '127.0.0.1', () => { peer = connect(server.address().port, '127.0.0.1'); peer.on('error', () => {}) })
  `], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (b: Buffer) => { output += b.toString() })
  child.stderr.on('data', (b: Buffer) => { output += b.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null]
  clearTimeout(timer)
  t.same({ code, signal }, { code: 0, signal: null }, `the process exited by itself within 15 s ${output}`)
})

t.test('kafkajs through the fault proxy to a real Kafka', { timeout: 120_000 }, async (t) => {
  const { proxy, broker, via, close } = await startBrokerBehindProxy()
  t.teardown(close)
  const config = (clientId: string, extra: Partial<KafkaConfig> = {}): KafkaConfig => ({ clientId, brokers: [via], logLevel: logLevel.NOTHING, ...extra })
  const topic = uniqueTopic('fault-proxy')
  const admin = new Kafka({ clientId: 'direct-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
  // Records stored: the admin bootstraps on the broker's own port, but its later connections go through the proxy
  // too (advertised address) — it works while no fault is on.
  const stored = async (): Promise<number> => Number((await admin.fetchTopicOffsets(topic))[0]!.high)

  const producers: Producer[] = []
  t.teardown(async () => { for (const p of producers) await p.disconnect().catch(() => {}) })
  const producer = (p: Producer): Producer => { producers.push(p); return p }
  const timed = async <T>(p: Promise<T>): Promise<{ value: T, ms: number }> => {
    const started = Date.now()
    const value = await p
    return { value, ms: Date.now() - started }
  }

  // Idempotent, acks -1 (kafkajs' default retry for an idempotent producer: retries forever).
  const idem = producer(new Kafka(config('idem')).producer({ idempotent: true, maxInFlightRequests: 1 }))
  await idem.connect()

  await t.test('normal produce passes and the counters move', async (t) => {
    const before = { up: proxy.bytesUp, down: proxy.bytesDown }
    const [meta] = await idem.send({ topic, acks: -1, messages: [{ value: 'plain' }] })
    t.equal(meta?.errorCode, 0)
    t.ok(proxy.connections >= 1, `${proxy.connections} connections`)
    t.ok(proxy.bytesUp > before.up && proxy.bytesDown > before.down, `bytes up ${proxy.bytesUp}, down ${proxy.bytesDown}`)
    t.same([...proxy.produceVersions], [7], 'kafkajs 2.2.4 and Kafka 4.3.1 settle on Produce v7')
    t.equal(await stored(), 1)
  })

  await t.test('failNextProduce(6): the idempotent producer retries; the broker keeps the record once', async (t) => {
    proxy.failNextProduce(6)
    const before = await stored()
    const { value: [meta], ms } = await timed(idem.send({ topic, acks: -1, messages: [{ value: 'retried' }] }))
    t.equal(meta?.errorCode, 0, `the send succeeded after a retry (${ms} ms)`)
    t.equal(proxy.rewritten, 1)
    t.match(proxy.rewrites[0], { version: 7, topic, partition: 0, originalErrorCode: 0, errorCode: 6 }, 'the broker had stored it: the error was a lie')
    t.equal(await stored(), before + 1, 'the retry of the same sequence number was deduplicated: stored once')
  })

  await t.test('failNextProduce(6) with retries 0 (not idempotent): the send rejects, yet the record is in Kafka', async (t) => {
    const plain = producer(new Kafka(config('plain', { retry: { retries: 0 } })).producer())
    await plain.connect()
    await plain.send({ topic, acks: -1, messages: [{ value: 'warm-up' }] })
    proxy.failNextProduce(6, { topic })
    const before = await stored()
    const err = await rejection(plain.send({ topic, acks: -1, messages: [{ value: 'rejected' }] }))
    t.comment(describe(err))
    t.equal(proxy.rewritten, 2)
    t.match(err.cause ?? err, { type: 'NOT_LEADER_FOR_PARTITION' }, 'the rejection names the rewritten error')
    t.equal(await stored(), before + 1, 'a negative acknowledgement is no proof of absence: the record was stored')
  })

  // With retries 0 the first send after the partition fails too (KafkaJSConnectionError "write ECONNRESET": kafkajs
  // writes on the connection the proxy has just reset, before it saw the reset); one retry gets a new connection.
  await t.test('blackHole: a send with a short request timeout fails; turned off, the next send works', async (t) => {
    const short = producer(new Kafka(config('short', { requestTimeout: 1000, retry: { retries: 1, initialRetryTime: 100 } })).producer())
    await short.connect()
    await short.send({ topic, acks: -1, messages: [{ value: 'before the partition' }] })
    const connections = proxy.connections
    const before = await stored()
    proxy.blackHole(true)
    const started = Date.now()
    const err = await rejection(short.send({ topic, acks: -1, messages: [{ value: 'into the void' }] }))
    const ms = Date.now() - started
    t.comment(`${describe(err)} after ${ms} ms`)
    t.match(err.cause ?? err, { name: 'KafkaJSRequestTimeoutError' }, 'the request timed out')
    t.ok(ms >= 1900 && ms < 6000, `after the request timeout twice (a retry on the same connection: ${ms} ms)`)
    t.equal(proxy.open > 0, true, 'the connections stayed open')
    proxy.blackHole(false)
    const { value: [meta], ms: after } = await timed(short.send({ topic, acks: -1, messages: [{ value: 'after the partition' }] }))
    t.equal(meta?.errorCode, 0, `the next send works (${after} ms)`)
    t.ok(proxy.connections > connections, 'on a new connection (the black-holed ones were reset)')
    t.equal(await stored(), before + 1, 'the black-holed record never reached Kafka')
  })

  await t.test('cut: kafkajs reconnects for the next send', async (t) => {
    const connections = proxy.connections
    proxy.cut()
    t.equal(proxy.open, 0)
    const { value: [meta], ms } = await timed(idem.send({ topic, acks: -1, messages: [{ value: 'after a cut' }] }))
    t.equal(meta?.errorCode, 0, `sent (${ms} ms)`)
    t.ok(proxy.connections > connections, `reconnected (${proxy.connections - connections} new connections)`)
  })

  await t.test('refuse: a new client cannot connect; allowed again, it can', async (t) => {
    proxy.refuse(true)
    const refusedBefore = proxy.refused
    const fresh = producer(new Kafka(config('fresh', { retry: { retries: 1, initialRetryTime: 100 }, connectionTimeout: 1000 })).producer())
    const err = await rejection(fresh.connect())
    t.comment(describe(err))
    t.ok(proxy.refused > refusedBefore, `${proxy.refused - refusedBefore} connections refused`)
    proxy.refuse(false)
    await fresh.connect()
    const [meta] = await fresh.send({ topic, acks: -1, messages: [{ value: 'after refusal' }] })
    t.equal(meta?.errorCode, 0)
  })

  await t.test('delay(200): a send takes at least 200 ms (a round trip: 400)', async (t) => {
    const { ms: fast } = await timed(idem.send({ topic, acks: -1, messages: [{ value: 'fast' }] }))
    proxy.delay(200)
    const { ms } = await timed(idem.send({ topic, acks: -1, messages: [{ value: 'slow' }] }))
    proxy.delay(0)
    t.ok(ms >= 400, `${ms} ms with the delay, ${fast} ms without`)
  })
})
