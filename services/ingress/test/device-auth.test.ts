import t from 'tap'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { makeTestPki } from '@flowgate/testkit'
import { startIngress } from '../src/ingress.js'
import { passwordMatches, type DeviceAuth } from '../src/device-auth.js'

const quiet = pino({ level: 'silent' })

// One device with a password may publish under `factory/` only; a certificate CN `device-1` may do anything.
const auth: DeviceAuth = {
  async authenticate ({ username, password, certificateCn }) {
    if (certificateCn === 'device-1') return { identity: { clientId: 'x', certificateCn }, permissions: {} }
    if (username === 'oven' && passwordMatches(password, Buffer.from('s3cret'))) {
      return { identity: { clientId: 'x', username }, permissions: { publish: ['factory/#'], subscribe: ['factory/#'] } }
    }
    return null
  }
}

t.test('devices with the right password connect; others are refused with "bad user name or password"', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, deviceAuth: auth })
  t.teardown(() => ingress.close())
  const url = `mqtt://127.0.0.1:${ingress.mqtt.port}`
  const ok = await connectAsync(url, { protocolVersion: 5, username: 'oven', password: 's3cret' })
  await ok.endAsync()
  await t.rejects(connectAsync(url, { protocolVersion: 5, username: 'oven', password: 'nope', reconnectPeriod: 0 }), { code: 0x86 })
  await t.rejects(connectAsync(url, { protocolVersion: 4, username: 'nobody', password: 'x', reconnectPeriod: 0 }), { code: 4 })
})

t.test('topic authorization: publishing outside the allowed filters gets PUBACK 0x87; subscribing gets a refused grant', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, deviceAuth: auth })
  t.teardown(() => ingress.close())
  const client = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5, username: 'oven', password: 's3cret' })
  t.teardown(() => client.endAsync())
  await client.publishAsync('factory/oven/temp', '21', { qos: 1 })
  await t.rejects(client.publishAsync('office/door', 'open', { qos: 1 }), { code: 0x87 })
  await t.rejects(client.subscribeAsync('office/#', { qos: 1 }), /Not authorized/, 'SUBACK refuses the filter')
  t.equal(client.connected, true, 'the device stays connected')
  const allowed = await client.subscribeAsync('factory/+/temp', { qos: 1 })
  t.equal(allowed[0]?.qos, 1)
})

t.test('the TLS listener requires a client certificate from the configured CA and identifies the device by it', async (t) => {
  const pki = makeTestPki('device-1')
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, deviceAuth: auth, tls: { port: 0, cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca } })
  t.teardown(() => ingress.close())
  const tlsPort = ingress.listeners.find((l) => l.kind === 'tls')!.port
  const client = await connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { protocolVersion: 5, ca: pki.ca, cert: pki.clientCert, key: pki.clientKey })
  await client.publishAsync('office/door', 'any topic for a certificate device', { qos: 1 })
  await client.endAsync()
  await t.rejects(connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { protocolVersion: 5, ca: pki.ca, reconnectPeriod: 0, connectTimeout: 3000 }), 'no client certificate, no connection')
})

t.test('MQTT over WebSocket works for mqtt.js', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, wsPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  const wsPort = ingress.listeners.find((l) => l.kind === 'ws')!.port
  const client = await connectAsync(`ws://127.0.0.1:${wsPort}`, { protocolVersion: 5 })
  await client.subscribeAsync('ws/echo', { qos: 1 })
  const got = new Promise<string>((resolve) => client.once('message', (_t, payload) => resolve(payload.toString())))
  await client.publishAsync('ws/echo', 'over websocket', { qos: 1 })
  t.equal(await got, 'over websocket')
  await client.endAsync()
})

t.test('binding off loopback is allowed only with device authentication', async (t) => {
  await t.rejects(startIngress({ host: '0.0.0.0', mqttPort: 0, logger: quiet }), { code: 'FG_ERR_INGRESS_OPEN_BIND' })
})
