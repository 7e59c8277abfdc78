import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { freePort } from '@flowgate/testkit'
import { startIngress } from '../src/ingress.js'
import { memorySource } from './memory-source.js'

// A K8S-SAT token in MQTT 5 enhanced authentication, through the broker (the aedes patch lets the CONNECT's
// Authentication Method reach the hook): the right audience connects, a wrong one gets CONNACK 0x86.

const quiet = pino({ level: 'silent' })
const BROKER_API = 'mqttbroker.iotoperations.azure.com/v1'

t.test('K8S-SAT: a token for a listed audience connects; a wrong audience is refused with 0x86', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-sat-'))
  const jwksFile = join(dir, 'jwks.json')
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }))
  const token = async (aud: string): Promise<string> => await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setSubject('system:serviceaccount:plant:line-1').setAudience(aud).setIssuedAt().setExpirationTime('10m').sign(privateKey)
  const port = await freePort()
  const source = memorySource([
    { apiVersion: BROKER_API, kind: 'BrokerAuthentication', metadata: { name: 'sat', namespace: 'default' }, spec: { authenticationMethods: [{ method: 'ServiceAccountToken', serviceAccountTokenSettings: { audiences: ['flowgate-devices'], jwksUri: `file://${jwksFile}` } }] } },
    { apiVersion: BROKER_API, kind: 'BrokerListener', metadata: { name: 'sat', namespace: 'default' }, spec: { ports: [{ port, protocol: 'Mqtt', authenticationRef: 'sat' }] } }
  ])
  const ingress = await startIngress({ mqttPort: 0, logger: quiet, access: source })
  t.teardown(() => ingress.close())
  await ingress.frontDoor!.ready
  t.match(source.statuses.get('BrokerListener/default/sat')?.ports?.[0]?.bound, /:\d+$/)

  const url = `mqtt://127.0.0.1:${port}`
  const ok = await connectAsync(url, { protocolVersion: 5, clientId: 'line-1', properties: { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from(await token('flowgate-devices')) } })
  await ok.publishAsync('plant/line-1', 'hello', { qos: 1 })
  await ok.endAsync()
  await t.rejects(connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, properties: { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from(await token('someone-else')) } }), { code: 0x86 })
  await t.rejects(connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: Buffer.from('x') } }), { code: 0x8c }, 'a method the port does not take: 0x8C')
})
