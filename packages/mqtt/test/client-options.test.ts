import t from 'tap'
import { mqttClientOptions, parseHostPort } from '../src/client-options.js'
import { MqttEndpointError, pubackError } from '../src/errors.js'

t.test('mqttSettings become mqtt.js 5 options: scheme from tls and protocol, keep-alive, session expiry', async (t) => {
  const plain = mqttClientOptions({ host: '127.0.0.1:1883', tls: { mode: 'Disabled' }, keepAliveSeconds: 30, sessionExpirySeconds: 0 }, {}, { clientId: 'c' })
  t.equal(plain.url, 'mqtt://127.0.0.1:1883')
  t.equal(plain.options.protocolVersion, 5)
  t.equal(plain.options.keepalive, 30)
  t.equal(plain.options.properties?.sessionExpiryInterval, 0)
  const tls = mqttClientOptions({ host: 'broker.example:8883' }, { trustedCa: 'PEM' }, { clientId: 'c' })
  t.equal(tls.url, 'mqtts://broker.example:8883', 'tls defaults to Enabled')
  t.equal(tls.options.ca, 'PEM')
  t.equal(tls.options.servername, 'broker.example')
  t.equal(mqttClientOptions({ host: 'h:443', protocol: 'WebSockets' }, {}, { clientId: 'c' }).url, 'wss://h:443/mqtt')
})

t.test('authentication methods map to user name / password, client certificates and enhanced auth', async (t) => {
  const up = mqttClientOptions({ host: 'h:1', tls: { mode: 'Disabled' }, authentication: { method: 'UsernamePassword', usernamePasswordSettings: { secretRef: 's' } } }, { usernamePassword: { username: 'u', password: 'p' } }, { clientId: 'c' })
  t.equal(up.options.username, 'u')
  t.equal(up.options.password, 'p')
  const x509 = mqttClientOptions({ host: 'h:1', authentication: { method: 'X509Certificate', x509CertificateSettings: { secretRef: 's' } } }, { tls: { cert: 'C', key: 'K' } }, { clientId: 'c' })
  t.equal(x509.options.cert, 'C')
  const sat = mqttClientOptions({ host: 'h:1', authentication: { method: 'ServiceAccountToken', serviceAccountTokenSettings: { audience: 'aio-internal' } } }, {}, { clientId: 'c', readServiceAccountToken: (a) => `token-for-${a}` })
  t.equal(sat.options.properties?.authenticationMethod, 'K8S-SAT')
  t.same(await sat.refreshAuthentication!(), Buffer.from('token-for-aio-internal'))
})

t.test('bad settings are refused with FG_ERR_MQTT_CONFIG', async (t) => {
  t.throws(() => parseHostPort('no-port'), { code: 'FG_ERR_MQTT_CONFIG' })
  t.throws(() => mqttClientOptions({ host: 'h:1', tls: { mode: 'Disabled' }, authentication: { method: 'X509Certificate', x509CertificateSettings: { secretRef: 's' } } }, { tls: { cert: 'C', key: 'K' } }, { clientId: 'c' }), { code: 'FG_ERR_MQTT_CONFIG' })
  t.throws(() => mqttClientOptions({ host: 'h:1', authentication: { method: 'SystemAssignedManagedIdentity' } }, {}, { clientId: 'c' }), { code: 'FG_ERR_MQTT_CONFIG' })
})

t.test('PUBACK reason codes that refuse the message are permanent, others retriable', async (t) => {
  t.equal(pubackError(0x87).permanent, true)
  t.equal(pubackError(0x87).code, 'FG_ERR_MQTT_REFUSED')
  t.equal(pubackError(0x97).permanent, false)
  t.ok(pubackError(0x80) instanceof MqttEndpointError)
})
