// The split deployment's broker persistence: aedes-persistence-redis on Debian's redis-server (started here, on a
// free loopback port, removed at the end). First aedes-persistence's own abstract suite against it, through the
// wrapper the broker gets (persistence.ts); then two ingress brokers on one Redis, each with its own broker.
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { connectAsync, type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { freePort } from '@flowgate/testkit'
import { createSessionPersistence } from '../src/persistence.js'
import { startIngress, type Ingress } from '../src/ingress.js'
import { recorder, until, sleep } from './mqtt5-brokers.js'

const REDIS_SERVER = '/usr/bin/redis-server'
const quiet = pino({ level: 'silent' })

interface RedisServer { url: string, admin: Redis, sigkill: () => Promise<void>, start: () => Promise<void> }

/** redis-server on a free 127.0.0.1 port, append-only file in a temporary directory; killed at the end. */
async function startRedis (t: Test): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'fg-redis-'))
  const url = `redis://127.0.0.1:${port}`
  const admin = new Redis(url, { lazyConnect: true, retryStrategy: () => null })
  let child: ChildProcess | undefined
  const r: RedisServer = {
    url,
    admin,
    async start () {
      const c = child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], { stdio: 'ignore' })
      const end = Date.now() + 10_000
      for (;;) {
        try { if (admin.status !== 'ready') await admin.connect(); await admin.ping(); return } catch (err) {
          if (Date.now() > end || c.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`, { cause: err })
          admin.disconnect()
          await sleep(50)
        }
      }
    },
    async sigkill () {
      const c = child
      child = undefined
      admin.disconnect()
      if (c !== undefined && c.exitCode === null) await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGKILL') })
    }
  }
  t.teardown(async () => { await r.sigkill(); rmSync(dir, { recursive: true, force: true }) })
  await r.start()
  return r
}

if (!existsSync(REDIS_SERVER)) {
  t.fail(`${REDIS_SERVER} missing: scripts/deps.sh installs Debian's redis-server`)
} else {
  const redis = await startRedis(t)

  // --- aedes-persistence's abstract suite (as persistence-abstract.test.ts runs it for LevelDB) ---
  const abstract = createRequire(createRequire(import.meta.url).resolve('aedes-persistence'))('./abstract.js') as (opts: object) => void
  const mqemitter = createRequire(createRequire(import.meta.url).resolve('aedes'))('mqemitter') as () => unknown
  // On Node 20 the suite's `structuredClone(packet)` has a Uint8Array payload where the expected one is a Buffer:
  // compared by bytes, as the suite means (see persistence-abstract.test.ts).
  function bytesAsBuffers (v: unknown): unknown {
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    if (Array.isArray(v)) return v.map(bytesAsBuffers)
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesAsBuffers(x)]))
    return v
  }
  const deepEqual = (actual: unknown, expected: unknown, message?: string): void => assert.deepStrictEqual(bytesAsBuffers(actual), bytesAsBuffers(expected), message)
  t.test('aedes-persistence abstract suite against aedes-persistence-redis', async (t) => {
    abstract({
      test (name: string, body: (t: object) => Promise<void> | void) {
        t.test(name, async (tt) => {
          await body({
            assert: { equal: assert.equal, deepEqual, notEqual: assert.notEqual, ok: assert.ok },
            plan: () => {},
            diagnostic: (msg: string) => tt.comment(msg)
          })
          tt.pass(name)
        })
      },
      testAsync: true,
      buildEmitter: mqemitter,
      async persistence () {
        // Each abstract test starts from an empty database, as the package's own tests do.
        await redis.admin.flushall()
        return createSessionPersistence({ kind: 'redis', url: redis.url }).persistence
      }
    })
  })

  // --- two ingress brokers sharing one Redis ---
  async function open (t: Test): Promise<{ ingress: Ingress, url: string }> {
    const ingress = await startIngress({ mqttPort: 0, logger: quiet, persistence: { kind: 'redis', url: redis.url } })
    let closed = false
    t.teardown(async () => { if (!closed) await ingress.close() })
    const close = ingress.close
    ingress.close = async () => { closed = true; await close() }
    return { ingress, url: `mqtt://127.0.0.1:${ingress.mqtt.port}` }
  }

  async function publishAll (client: MqttClient, topic: string, from: number, to: number): Promise<void> {
    const sent: Array<Promise<unknown>> = []
    for (let i = from; i < to; i++) sent.push(client.publishAsync(topic, String(i), { qos: 1 }))
    await Promise.all(sent)
  }

  // More than the 1,000 the issue asks for: past the 1,001 the package delivers per resumption by default.
  const TOTAL = 1500
  t.test('a session subscribed and queued for on ingress A resumes on ingress B with all 1,500 QoS 1 messages, in order; a message retained through A is served by B', async (t) => {
    await redis.admin.flushall()
    const session = { protocolVersion: 5 as const, clientId: 'roamer', clean: false, properties: { sessionExpiryInterval: 3600 } }
    const a = await open(t)
    const first = await connectAsync(a.url, { ...session, clean: true, reconnectPeriod: 0 })
    await first.subscribeAsync('fleet/+/cmd', { qos: 1 })
    await first.endAsync()
    // B runs alongside A from here on: it reads the session's subscription from Redis when it starts.
    const b = await open(t)

    // A clean-session subscriber on A: once it has a message, A has queued it in Redis for the offline session
    // (aedes queues before it forwards live). The barrier before A goes, without a timed wait.
    const observer = await recorder(a.url, { protocolVersion: 5, clientId: 'observer' })
    t.teardown(() => observer.client.endAsync().catch(() => {}))
    await observer.client.subscribeAsync('fleet/+/cmd', { qos: 1 })
    const device = await connectAsync(a.url, { protocolVersion: 5, reconnectPeriod: 0 })
    await publishAll(device, 'fleet/7/cmd', 0, TOTAL)
    await device.publishAsync('site/a/state', 'on', { qos: 1, retain: true, properties: { userProperties: { unit: 'a' } } })
    await device.endAsync()
    await until(() => observer.got.length === TOTAL, 'the observer has all of them (so they are queued)', 20_000)
    await observer.client.endAsync()
    await a.ingress.close()

    const back = await recorder(b.url, { ...session })
    t.teardown(() => back.client.endAsync().catch(() => {}))
    t.equal(back.sessionPresent, true, 'Session Present on B: the session A kept in Redis')
    await until(() => back.got.length >= TOTAL, 'the queued messages through B', 30_000)
    await sleep(200)
    t.same(back.got.map((p) => Number(p.payload.toString())), Array.from({ length: TOTAL }, (_, i) => i), 'all of them, in the order they were published, none twice')
    t.ok(back.got.every((p) => p.qos === 1 && p.topic === 'fleet/7/cmd'), 'at QoS 1 on their topic')
    await back.client.endAsync()

    // Acknowledged through B: gone from Redis, so nothing again on the next resumption; the subscription is kept.
    const again = await recorder(b.url, { ...session })
    t.teardown(() => again.client.endAsync().catch(() => {}))
    t.equal(again.sessionPresent, true, 'the session is still there')
    const ping = await connectAsync(b.url, { protocolVersion: 5, reconnectPeriod: 0 })
    await ping.publishAsync('fleet/7/cmd', 'after', { qos: 1 })
    await ping.endAsync()
    await until(() => again.got.length > 0, 'the live message on B')
    await sleep(200)
    t.same(again.got.map((p) => p.payload.toString()), ['after'], 'the acknowledged messages are not delivered again')
    await again.client.endAsync()

    const sub = await recorder(b.url, { protocolVersion: 5, clientId: 'check-retained' })
    t.teardown(() => sub.client.endAsync().catch(() => {}))
    await sub.client.subscribeAsync('site/+/state', { qos: 1 })
    await until(() => sub.got.length >= 1, 'the retained message on B')
    t.equal(sub.got[0]?.payload.toString(), 'on', 'retained through A, served by B')
    t.equal(sub.got[0]?.retain, true, 'sent as retained')
    t.same(sub.got[0]?.properties?.userProperties, { unit: 'a' }, 'its MQTT 5 properties kept')
  })

  const CLI = fileURLToPath(new URL('../../../services/cli/bin/flowgate.mjs', import.meta.url))

  t.test('SIGKILL: `flowgate ingress --persistence-url` killed, then redis-server killed and restarted from its append-only file: the session resumes on another ingress with all 1,000 queued messages, the retained one too', async (t) => {
    await redis.admin.flushall()
    const session = { protocolVersion: 5 as const, clientId: 'survivor', clean: false, properties: { sessionExpiryInterval: 3600 } }
    const [mqttPort, httpPort] = [await freePort(), await freePort()]
    const stderr: string[] = []
    const child = spawn(process.execPath, [CLI, 'ingress', '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--ack-on-receipt', '--persistence-url', redis.url],
      { env: { ...process.env, FLOWGATE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()))
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    const url = `mqtt://127.0.0.1:${mqttPort}`
    const end = Date.now() + 20_000
    for (;;) {
      const up = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 1000 }).catch(() => undefined)
      if (up !== undefined) { await up.endAsync(); break }
      if (Date.now() > end || child.exitCode !== null) throw new Error(`flowgate ingress did not start: ${stderr.join('')}`)
      await sleep(100)
    }

    const first = await connectAsync(url, { ...session, clean: true, reconnectPeriod: 0 })
    await first.subscribeAsync('fleet/+/cmd', { qos: 1 })
    await first.endAsync()
    const observer = await recorder(url, { protocolVersion: 5, clientId: 'observer-kill' })
    t.teardown(() => observer.client.endAsync().catch(() => {}))
    await observer.client.subscribeAsync('fleet/+/cmd', { qos: 1 })
    const device = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
    await publishAll(device, 'fleet/7/cmd', 0, 1000)
    await device.publishAsync('site/k/state', 'kept', { qos: 1, retain: true })
    await device.endAsync()
    await until(() => observer.got.length === 1000, 'the observer has all 1,000 (so they are queued)', 20_000)
    observer.client.end(true)
    await new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGKILL') })
    // Redis replies once the change is in its append-only file's buffer, written to the OS before the reply.
    await redis.sigkill()
    await redis.start()

    const b = await open(t)
    const back = await recorder(b.url, { ...session })
    t.teardown(() => back.client.endAsync().catch(() => {}))
    t.equal(back.sessionPresent, true, 'Session Present: the session outlived both SIGKILLs')
    await until(() => back.got.length >= 1000, 'the queued messages', 30_000)
    await sleep(200)
    t.same(back.got.map((p) => Number(p.payload.toString())), Array.from({ length: 1000 }, (_, i) => i), 'all 1,000, in order, none twice')
    const sub = await recorder(b.url, { protocolVersion: 5, clientId: 'check-retained-kill' })
    t.teardown(() => sub.client.endAsync().catch(() => {}))
    await sub.client.subscribeAsync('site/+/state', { qos: 1 })
    await until(() => sub.got.length >= 1, 'the retained message')
    t.equal(sub.got[0]?.payload.toString(), 'kept', 'the retained message too')
  })

  t.test("another broker on the same Redis does not publish the Will of a device still connected to a live broker; once that broker is gone, it does", async (t) => {
    await redis.admin.flushall()
    const standIn = (id: string): object => {
      const mq = mqemitter() as { emit: (...a: unknown[]) => void, on: (...a: unknown[]) => void, removeListener: (...a: unknown[]) => void }
      return { id, mq, publish: mq.emit.bind(mq), subscribe: mq.on.bind(mq), unsubscribe: mq.removeListener.bind(mq), counter: 0, opts: { heartbeatInterval: 60_000 } }
    }
    type Wills = { setup: (b: object) => Promise<void>, putWill: (c: object, p: object) => Promise<void>, streamWill: (brokers: object) => AsyncIterable<{ clientId: string }> }
    const a = createSessionPersistence({ kind: 'redis', url: redis.url })
    const b = createSessionPersistence({ kind: 'redis', url: redis.url })
    t.teardown(async () => { await a.close(); await b.close() })
    await (a.persistence as Wills).setup(standIn('broker-a'))
    await (b.persistence as Wills).setup(standIn('broker-b'))
    await (a.persistence as Wills).putWill({ id: 'device-on-a' }, { topic: 'will/a', payload: Buffer.from('gone'), qos: 1, retain: false })
    const wills = async (p: unknown): Promise<string[]> => {
      const out: string[] = []
      // B has heard no heartbeat from A (no shared emitter): the brokers it knows are only itself.
      for await (const w of (p as Wills).streamWill({ 'broker-b': Date.now() })) out.push(w.clientId)
      return out
    }
    t.same(await wills(b.persistence), [], 'A is alive (its key in Redis): B leaves its Will alone')
    await a.close()
    t.same(await wills(b.persistence), ['device-on-a'], 'A closed: B sees the Will as a dead broker\'s, to publish')
  })

  // --- one broker across processes: the shared emitter (issue 20) ---
  async function openShared (t: Test): Promise<{ ingress: Ingress, url: string }> {
    const ingress = await startIngress({ mqttPort: 0, logger: quiet, persistence: { kind: 'redis', url: redis.url }, sharedEmitterUrl: redis.url })
    t.teardown(() => ingress.close())
    return { ingress, url: `mqtt://127.0.0.1:${ingress.mqtt.port}` }
  }

  t.test('with a shared emitter two brokers are one: live messages cross, a session made on one after both started gets its queue on the other, retained messages are served by both', async (t) => {
    await redis.admin.flushall()
    const a = await openShared(t)
    const b = await openShared(t)
    t.not(a.ingress.broker.id, b.ingress.broker.id, 'two brokers')

    // Live: a subscriber on A, a device on B.
    const onA = await recorder(a.url, { protocolVersion: 5, clientId: 'live-on-a' })
    t.teardown(() => onA.client.endAsync().catch(() => {}))
    await onA.client.subscribeAsync('plant/+/temp', { qos: 1 })
    const device = await connectAsync(b.url, { protocolVersion: 5, clientId: 'device-on-b', reconnectPeriod: 0 })
    t.teardown(() => device.endAsync().catch(() => {}))
    for (let i = 0; i < 50; i++) await device.publishAsync('plant/7/temp', String(i), { qos: 1, properties: { userProperties: { unit: 'C' } } })
    await until(() => onA.got.length >= 50, 'the device\'s messages on A')
    await sleep(200)
    t.same(onA.got.map((p) => Number(p.payload.toString())), Array.from({ length: 50 }, (_, i) => i), 'every message once, in order, across the brokers')
    t.same(onA.got[0]?.properties?.userProperties, { unit: 'C' }, 'MQTT 5 properties kept')

    // A persistent session subscribes on A (after B started: B learns it through the emitter), goes away, and B
    // queues for it; it resumes on B.
    const session = { protocolVersion: 5 as const, clientId: 'roamer', clean: false, properties: { sessionExpiryInterval: 3600 } }
    const first = await connectAsync(a.url, { ...session, clean: true, reconnectPeriod: 0 })
    await first.subscribeAsync('fleet/+/cmd', { qos: 1 })
    await first.endAsync()
    await sleep(300)
    for (let i = 0; i < 20; i++) await device.publishAsync('fleet/1/cmd', `cmd-${i}`, { qos: 1 })
    await device.publishAsync('site/b/state', 'on', { qos: 1, retain: true })
    const back = await recorder(b.url, { ...session })
    t.teardown(() => back.client.endAsync().catch(() => {}))
    t.equal(back.sessionPresent, true, 'Session Present on B')
    await until(() => back.got.length >= 20, 'the queued commands through B')
    t.same(back.got.map((p) => p.payload.toString()), Array.from({ length: 20 }, (_, i) => `cmd-${i}`), 'queued while away, in order')

    const reader = await recorder(a.url, { protocolVersion: 5, clientId: 'retained-reader' })
    t.teardown(() => reader.client.endAsync().catch(() => {}))
    await reader.client.subscribeAsync('site/+/state', { qos: 1 })
    await until(() => reader.got.length >= 1, 'the retained message on A')
    t.equal(reader.got[0]?.payload.toString(), 'on', 'retained through B, served by A')
  })

  t.test('a shared emitter without the Redis persistence is refused at start, with its code', async (t) => {
    await t.rejects(startIngress({ mqttPort: 0, logger: quiet, sharedEmitterUrl: redis.url }), { code: 'FG_ERR_INGRESS_SHARED_EMITTER' })
  })
}
