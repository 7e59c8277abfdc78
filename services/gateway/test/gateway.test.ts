import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { connectAsync, type MqttClient } from 'mqtt'
import { pino } from 'pino'
import { nextMessage } from '@flowgate/testkit'
import { startGateway } from '../src/gateway.js'

const quiet = pino({ level: 'silent' })
function dataDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-gw-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}


async function roundTrip (t: Test, sub: MqttClient, pub: () => Promise<unknown>, topic: string, expected: string): Promise<void> {
  await sub.subscribeAsync(topic, { qos: 1 })
  const got = nextMessage(sub)
  await pub()
  const [receivedTopic, payload] = await got
  t.equal(receivedTopic, topic)
  t.equal(payload.toString(), expected)
}

t.test('flowgate start serves MQTT and answers /healthz and /readyz', async (t) => {
  const gw = await startGateway({ httpPort: 0, mqttPort: 0, logger: quiet, dataDir: dataDir(t) })
  t.teardown(() => gw.close())
  const base = `http://${gw.http.host}:${gw.http.port}`
  t.equal((await fetch(`${base}/healthz`)).status, 200)
  t.same(await (await fetch(`${base}/readyz`)).json(), { status: 'ready' })

  t.test('the translator API answers on the gateway port too', async (t) => {
    const res = await fetch(`${base}/translate/v1/mqtt-to-kafka`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: {}, context: { now: 0, instanceId: 0, dataflow: 'd', destinationTopic: 'out-${inputTopic.1}' }, messages: [{ topic: 'factory/oven', payload: Buffer.from('hi').toString('base64') }] })
    })
    t.equal(res.status, 200)
    t.equal((await res.json()).results[0].record.topic, 'out-factory')
  })

  t.test('mqtt.js v5 publishes and subscribes through the embedded broker', async (t) => {
    const url = `mqtt://${gw.mqtt.host}:${gw.mqtt.port}`
    const sub = await connectAsync(url, { protocolVersion: 5, clientId: 'sub-v5' })
    const pub = await connectAsync(url, { protocolVersion: 5, clientId: 'pub-v5' })
    t.teardown(async () => { await sub.endAsync(); await pub.endAsync() })
    await sub.subscribeAsync('v5/props', { qos: 1 })
    const got = nextMessage(sub)
    await pub.publishAsync('v5/props', 'hello v5', { qos: 1, properties: { contentType: 'text/plain', userProperties: { site: 'a' } } })
    const [, payload, packet] = await got
    t.equal(payload.toString(), 'hello v5')
    t.equal(packet.properties?.contentType, 'text/plain', 'MQTT 5 properties survive the broker')
    t.same(packet.properties?.userProperties, { site: 'a' })
  })

  t.test('mqtt.js v3.1.1 clients interoperate with v5 clients', async (t) => {
    const url = `mqtt://${gw.mqtt.host}:${gw.mqtt.port}`
    const sub = await connectAsync(url, { protocolVersion: 4, clientId: 'sub-v311' })
    const pub = await connectAsync(url, { protocolVersion: 5, clientId: 'pub-v5b' })
    t.teardown(async () => { await sub.endAsync(); await pub.endAsync() })
    await roundTrip(t, sub, () => pub.publishAsync('mixed/a', 'from v5 to v3.1.1', { qos: 1 }), 'mixed/a', 'from v5 to v3.1.1')
  })

  t.test("Debian's mosquitto_pub -V mqttv5 reaches an mqtt.js subscriber", async (t) => {
    const url = `mqtt://${gw.mqtt.host}:${gw.mqtt.port}`
    const sub = await connectAsync(url, { protocolVersion: 5, clientId: 'sub-mosq' })
    t.teardown(() => sub.endAsync())
    await roundTrip(t, sub, async () => {
      const child = spawn('mosquitto_pub', ['-V', 'mqttv5', '-h', gw.mqtt.host, '-p', String(gw.mqtt.port), '-q', '1', '-t', 'mosq/x', '-m', 'from mosquitto'])
      const [code] = await once(child, 'exit')
      t.equal(code, 0, 'mosquitto_pub exits 0')
    }, 'mosq/x', 'from mosquitto')
  })
})

t.test('refuses to bind off loopback without device authentication', async (t) => {
  await t.rejects(startGateway({ host: '0.0.0.0', httpPort: 0, mqttPort: 0, logger: quiet, dataDir: dataDir(t) }), { code: 'FG_ERR_INGRESS_OPEN_BIND' })
})

t.test('a port already in use is reported with its code, not a stack trace', async (t) => {
  const first = await startGateway({ httpPort: 0, mqttPort: 0, logger: quiet, dataDir: dataDir(t) })
  t.teardown(() => first.close())
  await t.rejects(startGateway({ httpPort: 0, mqttPort: first.mqtt.port, logger: quiet, dataDir: dataDir(t) }), { code: 'FG_ERR_INGRESS_PORT_IN_USE' })
})
