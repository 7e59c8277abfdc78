import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync, type IClientOptions } from 'mqtt'
import { eventually, freePort, startCliGateway, recordMessages as recorder } from '@flowgate/testkit'

// Persistent sessions and retained messages survive SIGKILL: `flowgate start` runs as a child process (its data
// directory and ports kept from one process to the next, as in restarts.test.ts), a device's persistent MQTT 5
// session is offline while 1,000 QoS 1 messages are published to it, the process is SIGKILLed — nothing runs after
// it — and started again; the device resumes its session and gets all 1,000, in order. A retained message set before
// the kill is sent to a new subscriber afterwards.





t.test('a persistent session offline while 1,000 QoS 1 messages are queued, the gateway SIGKILLed and started again: all 1,000 arrive, in order; a retained message survives', { timeout: 150_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-sessions-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const log: string[] = []
  const [httpPort, mqttPort] = [await freePort(), await freePort()]
  const url = `mqtt://127.0.0.1:${mqttPort}`
  const first = await startCliGateway(t, { dataDir, httpPort, mqttPort, log, name: 'first' })
  await first.ready()

  const session: IClientOptions = { protocolVersion: 5, clientId: 'field-unit-9', clean: false, properties: { sessionExpiryInterval: 86_400 } }
  const device = await connectAsync(url, { ...session, clean: true, reconnectPeriod: 0 })
  await device.subscribeAsync('ops/field-unit-9/cmd', { qos: 1 })
  await device.endAsync()

  // A clean-session observer on the same topic: the broker queues a message for the offline session before it
  // forwards it live, so the observer having all 1,000 means all 1,000 were queued — the barrier before the kill.
  const observer = await recorder(url, { clientId: 'observer' })
  await observer.client.subscribeAsync('ops/+/cmd', { qos: 1 })
  await observer.client.subscribeAsync('ops/+/config', { qos: 1 })
  const publisher = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
  const sent: Array<Promise<unknown>> = []
  for (let i = 0; i < 1000; i++) sent.push(publisher.publishAsync('ops/field-unit-9/cmd', String(i), { qos: 1 }))
  await Promise.all(sent)
  await publisher.publishAsync('ops/field-unit-9/config', 'interval=30', { qos: 1, retain: true })
  await publisher.endAsync()
  await eventually(async () => observer.got.length === 1001 ? true : undefined, 30_000, 'the observer has all 1,000 and the retained message')
  await observer.client.endAsync()

  first.proc.kill('SIGKILL')
  t.same(await first.exited, { code: null, signal: 'SIGKILL' }, 'SIGKILLed')

  await (await startCliGateway(t, { dataDir, httpPort, mqttPort, log, name: 'second' })).ready()
  const back = await recorder(url, session)
  t.teardown(() => back.client.endAsync().catch(() => {}))
  t.equal(back.sessionPresent, true, 'the session was kept (Session Present)')
  await eventually(async () => back.got.length >= 1000 ? true : undefined, 60_000, `the 1,000 queued messages (${back.got.length} so far) ${log.join('')}`)
  t.same(back.got.map((m) => Number(m.payload.toString())), Array.from({ length: 1000 }, (_, i) => i), 'all 1,000, in the order published, none twice')

  const late = await recorder(url, { clientId: 'late-subscriber' })
  t.teardown(() => late.client.endAsync().catch(() => {}))
  await late.client.subscribeAsync('ops/+/config', { qos: 1 })
  await eventually(async () => late.got.length > 0 ? true : undefined, 30_000, 'the retained message')
  t.match({ ...late.got[0], payload: late.got[0]?.payload.toString() }, { topic: 'ops/field-unit-9/config', payload: 'interval=30', retain: true }, 'the retained message survived SIGKILL')
})
