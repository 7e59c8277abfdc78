import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { connect as tlsConnect } from 'node:tls'
import { connect as netConnect } from 'node:net'
import fc from 'fast-check'
import mqttPacket from 'mqtt-packet'
import { connectAsync } from 'mqtt'
import WebSocket from 'ws'
import { pino } from 'pino'
import type { StoredResource } from '@flowgate/store'
import { freePort } from '@flowgate/testkit'
import { hashPassword } from '../src/access/authn/password-hash.js'
import { startIngress } from '../src/ingress.js'
import { memorySource } from './memory-source.js'
import { connectPacket } from './raw-mqtt.js'

// Listener ports beyond the e2e test's TLS + X509 one: Automatic TLS (issued once, kept across restarts), WebSocket
// ports and browser Origins, Server Keep Alive, and malformed CONNECTs thrown at an authenticated port.

const quiet = pino({ level: 'silent' })
const BROKER_API = 'mqttbroker.iotoperations.azure.com/v1'
const users = async (): Promise<StoredResource> => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'users', namespace: 'default' }, stringData: { dev: await hashPassword('pw', { N: 1024 }) } })
const authn: StoredResource = { apiVersion: BROKER_API, kind: 'BrokerAuthentication', metadata: { name: 'pw', namespace: 'default' }, spec: { authenticationMethods: [{ method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 'users' } }] } }
const listener = (ports: unknown[]): StoredResource => ({ apiVersion: BROKER_API, kind: 'BrokerListener', metadata: { name: 'l', namespace: 'default' }, spec: { ports } })

t.test('tls Automatic: a CA and server certificate are issued, the CA is in the status, and a restart serves the same CA', async (t) => {
  const port = await freePort()
  const source = memorySource([await users(), authn, listener([{ port, authenticationRef: 'pw', tls: { mode: 'Automatic', certManagerCertificateSpec: { duration: '240h', san: { dns: ['broker.plant.example'] } } } }])])
  const first = await startIngress({ mqttPort: 0, logger: quiet, access: source })
  await first.frontDoor!.ready
  const status = source.statuses.get('BrokerListener/default/l')
  const ca: string = status.ports[0].caCertificate
  t.match(ca, /BEGIN CERTIFICATE/)
  t.ok(status.ports[0].notes.some((n: string) => n.includes('no cert-manager')), 'the status says who issued it')
  const device = await connectAsync(`mqtts://localhost:${port}`, { protocolVersion: 5, ca, username: 'dev', password: 'pw', reconnectPeriod: 0 })
  await device.endAsync()
  const served = await peerCertificate(port)
  t.match(served.subjectAltName, /DNS:broker\.plant\.example/, 'san from certManagerCertificateSpec')
  t.ok(served.verify(new X509Certificate(ca).publicKey), 'the served certificate is signed by the CA in the status')
  await first.close()

  const second = await startIngress({ mqttPort: 0, logger: quiet, access: source })
  t.teardown(() => second.close())
  await second.frontDoor!.ready
  t.equal(source.statuses.get('BrokerListener/default/l').ports[0].caCertificate, ca, 'the same CA after a restart: devices keep trusting the port')
  const again = await connectAsync(`mqtts://localhost:${port}`, { protocolVersion: 5, ca, username: 'dev', password: 'pw', reconnectPeriod: 0 })
  await again.endAsync()
})

t.test('WebSockets: devices connect; a browser Origin is refused unless the port lists it', async (t) => {
  const port = await freePort()
  const source = memorySource([await users(), authn, listener([{ port, protocol: 'WebSockets', authenticationRef: 'pw', allowedOrigins: ['https://hmi.plant.example'] }])])
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, access: source })
  t.teardown(() => ingress.close())
  await ingress.frontDoor!.ready
  const device = await connectAsync(`ws://127.0.0.1:${port}/mqtt`, { protocolVersion: 5, username: 'dev', password: 'pw', reconnectPeriod: 0 })
  await device.publishAsync('ws/x', 'over websockets', { qos: 1 })
  await device.endAsync()
  t.equal(await upgradeStatus(port, 'https://evil.example'), 403, 'an unlisted Origin is refused')
  t.equal(await upgradeStatus(port, 'https://hmi.plant.example'), 101, 'a listed Origin is let in')
})

t.test('Server Keep Alive: a v5 device asking for more than --max-keep-alive is told the maximum', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, limits: { maxKeepAliveSeconds: 30 } })
  t.teardown(() => ingress.close())
  const device = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5, keepalive: 600 })
  const connack = await new Promise<{ properties?: { serverKeepAlive?: number } }>((resolve) => {
    if ((device as unknown as { connackPacket?: unknown }).connackPacket) resolve((device as unknown as { connackPacket: never }).connackPacket)
    else device.once('connect', (p) => resolve(p))
  })
  t.equal(connack.properties?.serverKeepAlive, 30)
  await device.endAsync()
})

t.test('fuzz: mutated CONNECTs against an authenticated port never stop it serving a device with the right password', async (t) => {
  const port = await freePort()
  const source = memorySource([await users(), authn, listener([{ port, authenticationRef: 'pw' }])])
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, access: source })
  t.teardown(() => ingress.close())
  await ingress.frontDoor!.ready
  const valid = mqttPacket.generate({ ...connectPacket('fuzz'), username: 'dev', password: Buffer.from('pw') } as never, { protocolVersion: 5 })
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), async (edits) => {
    const b = Buffer.from(valid)
    for (const [i, v] of edits) b[i] = v
    const socket = netConnect(port, '127.0.0.1')
    socket.on('error', () => {})
    socket.on('data', () => {})
    socket.write(b)
    await new Promise((resolve) => setTimeout(resolve, 5))
    socket.destroy()
  }), { numRuns: 200 })
  const device = await connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, username: 'dev', password: 'pw', reconnectPeriod: 0 })
  await device.publishAsync('after/fuzz', 'still served', { qos: 1 })
  await device.endAsync()
})

async function peerCertificate (port: number): Promise<X509Certificate> {
  return await new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      resolve(new X509Certificate(socket.getPeerCertificate().raw))
      socket.destroy()
    })
    socket.on('error', reject)
  })
}

async function upgradeStatus (port: number, origin: string): Promise<number> {
  return await new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, 'mqtt', { origin })
    ws.once('open', () => { ws.terminate(); resolve(101) })
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.once('error', () => {})
  })
}
