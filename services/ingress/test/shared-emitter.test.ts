// The shared emitter (`--workers N`, gateways on one Redis): a message goes through Redis only when some broker on it
// subscribes to a matching filter, and then always does. On Debian's redis-server; Redis' own count of PUBLISH
// commands (INFO commandstats) says whether a message went through it.
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '@flowgate/testkit'
import { redisEmitter } from '../src/shared-emitter.js'

interface Emitter {
  on: (topic: string, listener: (packet: { topic: string, payload: string }, done: () => void) => void, done: (err?: Error) => void) => void
  removeListener: (topic: string, listener: (packet: never, done: () => void) => void, done: (err?: Error) => void) => void
  emit: (packet: { topic: string, payload: string }, done: (err?: Error) => void) => void
  close: (done: () => void) => void
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function setup (t: Test): Promise<{ url: string, admin: Redis, open: () => Emitter, publishes: () => Promise<number> }> {
  const { url } = await startRedis(t)
  const admin = new Redis(url)
  t.teardown(() => admin.disconnect())
  const open = (): Emitter => {
    const e = redisEmitter(url, (err) => t.fail(`Redis error: ${err.message}`), { refreshMs: 200 }) as unknown as Emitter
    t.teardown(() => new Promise<void>((resolve) => e.close(resolve)))
    return e
  }
  const publishes = async (): Promise<number> => Number(/cmdstat_publish:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0)
  return { url, admin, open, publishes }
}

const on = (e: Emitter, filter: string, got: string[]): Promise<void> =>
  new Promise((resolve, reject) => e.on(filter, (p, done) => { got.push(`${p.topic}:${p.payload}`); done() }, (err) => err ? reject(err) : resolve()))
const emit = (e: Emitter, topic: string, payload: string): Promise<void> =>
  new Promise((resolve, reject) => e.emit({ topic, payload }, (err) => err ? reject(err) : resolve()))
/** Until the emitter has read the registry it sends everything to Redis: wait for it to have. */
const settled = (): Promise<void> => sleep(500)

t.test('a message no broker subscribes to skips Redis; one that some broker subscribes to reaches it, from the SUBACK on', async (t) => {
  const { open, publishes } = await setup(t)
  const a = open()
  const b = open()
  await settled()

  let before = await publishes()
  for (let i = 0; i < 500; i++) await emit(a, `fleet/d${i}/telemetry`, String(i))
  const skipped = await publishes() - before
  t.ok(skipped < 25, `500 messages nobody subscribes to: ${skipped} PUBLISH commands in Redis (registry refreshes only)`)

  // B subscribes; the moment its subscribe is done (aedes sends the SUBACK then), A's messages go to B.
  const got: string[] = []
  await on(b, 'fleet/+/telemetry', got)
  before = await publishes()
  for (let i = 0; i < 200; i++) await emit(a, 'fleet/d1/telemetry', String(i))
  for (let i = 0; i < 50 && got.length < 200; i++) await sleep(20)
  t.same(got, Array.from({ length: 200 }, (_, i) => `fleet/d1/telemetry:${i}`), 'every message after the subscribe, in order, on B')
  t.ok(await publishes() - before >= 200, 'through Redis')
  await emit(a, 'other/topic', 'x')
  await sleep(100)
  t.equal(got.length, 200, 'a message on another topic does not reach B')
})

t.test('when the subscriber unsubscribes, or its emitter closes, messages skip Redis again', async (t) => {
  const { open, publishes } = await setup(t)
  const a = open()
  const b = open()
  const c = open()
  const got: string[] = []
  const listener = (p: { topic: string, payload: string }, done: () => void): void => { got.push(p.payload); done() }
  await new Promise<void>((resolve) => b.on('site/#', listener, () => resolve()))
  await on(c, 'plant/#', [])
  await settled()
  let before = await publishes()
  for (let i = 0; i < 100; i++) await emit(a, 'site/1', String(i))
  t.ok(await publishes() - before >= 100, 'subscribed on B: through Redis')

  await new Promise<void>((resolve) => b.removeListener('site/#', listener as never, () => resolve()))
  await sleep(100)
  before = await publishes()
  for (let i = 0; i < 100; i++) await emit(a, 'site/1', String(i))
  t.ok(await publishes() - before < 10, 'unsubscribed: skips Redis')

  before = await publishes()
  for (let i = 0; i < 100; i++) await emit(a, 'plant/1', String(i))
  t.ok(await publishes() - before >= 100, 'C still subscribes to plant/#: through Redis')
  await new Promise<void>((resolve) => c.close(() => resolve()))
  await sleep(100)
  before = await publishes()
  for (let i = 0; i < 100; i++) await emit(a, 'plant/1', String(i))
  t.ok(await publishes() - before < 10, 'C closed: skips Redis')
})

t.test('a broker gone without a word (its registry entry expires) stops drawing messages to Redis; one A has not heard of yet is found by the next refresh', async (t) => {
  const { admin, open, publishes } = await setup(t)
  const a = open()
  await settled()
  // Another process's registry entry, as a worker killed with SIGKILL would leave it (expiring in 1 s), and written
  // without an announcement: A learns of it only by reading the registry.
  await admin.multi().sadd('flowgate:emitter:killed', 'alarms/#').expire('flowgate:emitter:killed', 1).sadd('flowgate:emitter:emitters', 'killed').exec()
  await sleep(400)
  let before = await publishes()
  for (let i = 0; i < 50; i++) await emit(a, 'alarms/7', String(i))
  t.ok(await publishes() - before >= 50, 'found by the refresh: through Redis')
  await sleep(1500)
  before = await publishes()
  for (let i = 0; i < 50; i++) await emit(a, 'alarms/7', String(i))
  t.ok(await publishes() - before < 10, 'expired: skips Redis')
  t.notOk((await admin.smembers('flowgate:emitter:emitters')).includes('killed'), 'and is dropped from the registry')
})

t.test('before it has read the registry, an emitter sends every message to Redis', async (t) => {
  const { open, publishes } = await setup(t)
  const a = open()
  const before = await publishes()
  // Synchronously after creation: the connection is not even up yet.
  const sent = Array.from({ length: 20 }, (_, i) => emit(a, `cold/${i}`, 'x'))
  await Promise.all(sent)
  t.ok(await publishes() - before >= 20, 'all 20 through Redis')
})
