import t from 'tap'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { freePort, makeDevicePki } from '@flowgate/testkit'
import { hashPassword } from '../src/access/authn/password-hash.js'
import { startIngress } from '../src/ingress.js'
import { memorySource } from './memory-source.js'

// AIO's custom authentication server, on HTTPS on loopback, behind a listener port: it allows, denies and expires
// a device's session through the broker; a password stored in clear is reported in the listener's status.

const quiet = pino({ level: 'silent' })
const BROKER_API = 'mqttbroker.iotoperations.azure.com/v1'
const pki = makeDevicePki()
t.teardown(() => pki.remove())

t.test('custom authentication: allowed, denied with its reason, and disconnected when re-authentication at expiry fails', async (t) => {
  const calls: Array<{ username?: string, header?: string }> = []
  let allowAgain = true
  const server = createHttpsServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      const request = JSON.parse(body) as { type: string, username?: string }
      calls.push({ ...(request.username !== undefined ? { username: request.username } : {}), header: String(req.headers['x-plant']) })
      const answer = (status: number, json: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(json)) }
      if (request.username === 'denied') return answer(403, { reason: 0x87, message: 'not on the list' })
      if (request.username === 'short' && calls.filter((c) => c.username === 'short').length > 1 && !allowAgain) return answer(403, { reason: 0x87 })
      answer(200, { attributes: { line: '1' }, ...(request.username === 'short' ? { expiry: new Date(Date.now() + 1500).toISOString() } : {}) })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const authPort = (server.address() as AddressInfo).port

  const port = await freePort()
  const source = memorySource([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'auth-ca', namespace: 'default' }, data: { 'ca.pem': pki.root.leaf } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'users', namespace: 'default' }, stringData: { plain: 'not-a-hash', hashed: await hashPassword('x', { N: 1024 }) } },
    {
      apiVersion: BROKER_API,
      kind: 'BrokerAuthentication',
      metadata: { name: 'custom', namespace: 'default' },
      spec: {
        authenticationMethods: [
          { method: 'Custom', customSettings: { endpoint: `https://localhost:${authPort}/`, caCertConfigMap: 'auth-ca', headers: { 'x-plant': 'north' } } },
          { method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 'users' } }
        ]
      }
    },
    { apiVersion: BROKER_API, kind: 'BrokerListener', metadata: { name: 'custom', namespace: 'default' }, spec: { ports: [{ port, authenticationRef: 'custom' }] } }
  ])
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, access: source })
  t.teardown(() => ingress.close())
  await ingress.frontDoor!.ready
  const notes: string[] = source.statuses.get('BrokerListener/default/custom')?.ports?.[0]?.notes ?? []
  t.ok(notes.some((n) => n.includes('plain cannot log in')), `a password stored in clear is reported (${notes.join(' | ')})`)

  const url = `mqtt://127.0.0.1:${port}`
  const ok = await connectAsync(url, { protocolVersion: 5, username: 'line-1', password: 'anything' })
  await ok.publishAsync('line/1', 'hello', { qos: 1 })
  await ok.endAsync()
  t.equal(calls[0]?.header, 'north', 'the configured headers reach the server')
  await t.rejects(connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, username: 'denied', password: 'x' }), { code: 0x87 }, 'the server\'s reason code reaches the device')

  allowAgain = false
  const short = await connectAsync(url, { protocolVersion: 5, username: 'short', password: 'x', reconnectPeriod: 0 })
  const reason = await new Promise<number | undefined>((resolve) => short.once('disconnect', (p) => resolve(p.reasonCode)))
  t.equal(reason, 0x87, 'at expiry the server is asked again; it refuses, and the device is disconnected with 0x87')
  t.equal(calls.filter((c) => c.username === 'short').length, 2, 'asked once at CONNECT and once at expiry')
  await short.endAsync(true)
})
