import t from 'tap'
import { createServer } from 'node:net'
import { SHOTS, launch, needsChromium, signIn } from './browser.js'
import { startGateway } from '@flowgate/gateway'
import { startTestGateway, eventually } from '@flowgate/testkit'

// The web UI's "Device access" in a real browser (Debian's Chromium driven by playwright-core), no Kafka needed:
// a user pastes AIO's BrokerAuthentication, BrokerAuthorization and BrokerListener into Apply YAML, sees them in
// the tables, reads a refused document's error by path, and deletes the listener again.

const NS = 'azure-iot-operations'
const BROKER_API = 'mqttbroker.iotoperations.azure.com/v1'


/** A port above the ephemeral-looking low range that nothing listens on now (the listener binds it on every interface). */
async function freeHighPort (): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 18000 + Math.floor(Math.random() * 10000)
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '::', () => s.close(() => resolve(true)))
    })
    if (free) return port
  }
  throw new Error('no free port between 18000 and 28000')
}

// As AIO's docs write them; serviceType is there because AIO's examples carry it (Flowgate notes it as ignored).
// The second listener has Flowgate issue its certificate (tls Automatic), so it has a CA for devices.
const deviceAccess = (port: number, tlsPort: number): string => `apiVersion: ${BROKER_API}
kind: BrokerAuthentication
metadata:
  name: devices
  namespace: ${NS}
spec:
  authenticationMethods:
    - method: UsernamePassword
      usernamePasswordSettings:
        secretRef: device-users
---
apiVersion: ${BROKER_API}
kind: BrokerAuthorization
metadata:
  name: devices
  namespace: ${NS}
spec:
  authorizationPolicies:
    cache: Enabled
    rules:
      - principals:
          usernames: [sensor-1]
        brokerResources:
          - method: Connect
          - method: Publish
            topics: ["sensors/{principal.clientId}/#"]
---
apiVersion: ${BROKER_API}
kind: BrokerListener
metadata:
  name: devices-listener
  namespace: ${NS}
spec:
  serviceType: LoadBalancer
  ports:
    - port: ${port}
      protocol: Mqtt
      authenticationRef: devices
      authorizationRef: devices
---
apiVersion: ${BROKER_API}
kind: BrokerListener
metadata:
  name: local-tls
  namespace: ${NS}
spec:
  ports:
    - port: ${tlsPort}
      protocol: Mqtt
      tls:
        mode: Automatic
`

t.test('AIO\'s broker resources applied as YAML in the UI show in Device access; a bad one is refused by path; the listener is deleted', needsChromium, async (t) => {
  const gw = await startTestGateway(t, startGateway)
  const port = await freeHighPort()
  let tlsPort = await freeHighPort()
  while (tlsPort === port) tlsPort = await freeHighPort()
  const page = await launch(t)
  await signIn(page, gw.admin.base, gw.token)

  const listeners = page.locator('#listeners tbody')
  await listeners.locator('tr.empty').waitFor()
  t.pass('without listeners the table says what to do')

  // Apply the three documents at once: the server orders them and answers per resource.
  await page.getByRole('button', { name: 'Apply YAML' }).click()
  const dialog = page.locator('#apply-dialog')
  await dialog.getByLabel('Resources (YAML)').fill(deviceAccess(port, tlsPort))
  await dialog.getByRole('button', { name: 'Apply', exact: true }).click()
  const results = dialog.locator('#apply-results li')
  await eventually(async () => await results.count() === 4 ? true : undefined, 20_000, 'four apply results')
  const applied = await results.allTextContents()
  for (const kind of ['BrokerAuthentication', 'BrokerAuthorization', 'BrokerListener']) {
    t.ok(applied.some((r) => r.includes('created') && r.includes(kind)), `${kind} created`)
  }
  await dialog.getByRole('button', { name: 'Close' }).click()

  const listener = listeners.locator('tr', { hasText: `${NS}/devices-listener` })
  await listener.waitFor()
  t.match(await listener.textContent(), `${port} Mqtt no TLS authn: devices authz: devices`, 'the port as a broker config would say it')
  const authn = page.locator('#authentications tbody tr', { hasText: `${NS}/devices` })
  await authn.waitFor()
  t.match(await authn.textContent(), 'UsernamePassword')
  t.match(await authn.textContent(), `devices-listener:${port}`, 'which listener port uses the authentication')
  t.notMatch(await authn.textContent(), /scrypt|password:/i, 'no Secret value anywhere near the authentication')
  const authz = page.locator('#authorizations tbody tr', { hasText: `${NS}/devices` })
  await authz.waitFor()
  t.equal((await authz.locator('td').nth(1).textContent())?.trim(), '1', 'one rule')
  t.equal((await authz.locator('td').nth(2).textContent())?.trim(), 'on', 'cache on')
  for (const name of [`YAML of listener ${NS}/devices-listener`, `Delete listener ${NS}/devices-listener`, `YAML of authentication ${NS}/devices`, `Delete authorization ${NS}/devices`]) {
    t.equal(await page.getByRole('button', { name, exact: true }).count(), 1, `a button named "${name}"`)
  }

  // The Automatic TLS port's CA, for devices: the PEM once the gateway has written it into the status, until then
  // a sentence saying so (the status is the runtime's, so either is right here).
  const tlsListener = listeners.locator('tr', { hasText: `${NS}/local-tls` })
  t.match(await tlsListener.textContent(), `${tlsPort} Mqtt TLS(Automatic) authn: none authz: none`)
  t.equal(await listener.getByRole('button', { name: /^CA certificate/ }).count(), 0, 'no CA button without Automatic TLS')
  await eventually(async () => (await tlsListener.locator('.badge').textContent()) === 'Ready' ? true : undefined, 5_000).catch(() => {})
  await page.getByRole('button', { name: `CA certificate of listener ${NS}/local-tls port ${tlsPort}` }).click()
  const ca = page.locator('#ca-dialog')
  await ca.waitFor()
  const pem = await ca.locator('#ca-text').textContent()
  if (pem === '') t.ok(await ca.locator('#ca-missing').isVisible(), 'no CA in the status yet, and the dialog says so')
  else t.match(pem, /^-----BEGIN CERTIFICATE-----/, 'the CA certificate, PEM')
  t.notMatch(pem, /PRIVATE KEY/, 'never a key')
  await page.screenshot({ path: SHOTS + 'ui-device-access-ca.png' })
  await ca.getByRole('button', { name: 'Close' }).click()

  // The listener's YAML as stored.
  await page.getByRole('button', { name: `YAML of listener ${NS}/devices-listener` }).click()
  const yaml = await eventually(async () => {
    const text = await page.locator('#yaml-text').textContent()
    return text?.includes('kind: BrokerListener') ? text : undefined
  }, 20_000, 'the YAML of the listener')
  t.match(yaml, `port: ${port}`)
  await page.locator('#yaml-dialog').getByRole('button', { name: 'Close' }).click()

  // The gateway may write the listener's status (bound address, notes) meanwhile: give it a moment for the
  // picture, without requiring it.
  await eventually(async () => (await listener.locator('.badge').textContent()) !== 'Unknown' ? true : undefined, 5_000).catch(() => {})
  await page.screenshot({ path: SHOTS + 'ui-device-access.png', fullPage: true })

  // A protocol AIO does not have: nothing is applied, and the error names the field within the document.
  await page.getByRole('button', { name: 'Apply YAML' }).click()
  await dialog.getByLabel('Resources (YAML)').fill(deviceAccess(port, tlsPort).split('---\n')[2]!.replace('protocol: Mqtt', 'protocol: Quic'))
  await dialog.getByRole('button', { name: 'Apply', exact: true }).click()
  const problem = dialog.locator('#apply-problems li', { hasText: '/spec/ports/0/protocol' })
  await problem.waitFor()
  t.match(await problem.locator('code.path').textContent(), /^\/spec\/ports\/0\/protocol$/, 'the path within the resource, without the document index')
  t.match(await problem.textContent(), 'Document 1', 'which document')
  t.match(await problem.textContent(), /Mqtt, WebSockets/, 'the allowed protocols')
  t.match(await dialog.locator('#apply-error').textContent(), 'Nothing applied')
  t.equal(await dialog.locator('#apply-results li').count(), 0)
  await page.screenshot({ path: SHOTS + 'ui-device-access-error.png' })
  // "line N" selects that line of the text, where the bad value is.
  await problem.getByRole('button', { name: /Go to line/ }).click()
  t.match(await page.evaluate(() => { const a = document.getElementById('apply-text') as HTMLTextAreaElement; return a.value.slice(a.selectionStart, a.selectionEnd) }), 'protocol: Quic')

  // Not YAML at all: the line of the syntax error.
  await dialog.getByLabel('Resources (YAML)').fill('kind: [BrokerListener\n')
  await dialog.getByRole('button', { name: 'Apply', exact: true }).click()
  await dialog.locator('#apply-error', { hasText: 'not valid YAML' }).waitFor()
  t.ok(await dialog.locator('#apply-problems li', { hasText: 'line' }).count() > 0, 'the syntax error\'s line')
  await dialog.getByRole('button', { name: 'Close' }).click()
  t.equal((await gw.admin.get(`/api/v1/namespaces/${NS}/brokerlisteners/devices-listener`)).body.spec.ports[0].protocol, 'Mqtt', 'the refused document changed nothing')

  // The authentication is still in use: the refusal is shown in the dialog, and nothing is deleted.
  await page.getByRole('button', { name: `Delete authentication ${NS}/devices` }).click()
  const confirm = page.locator('#delete-dialog')
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel', 'Cancel has the focus, not Delete')
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click()
  await confirm.locator('#delete-error', { hasText: 'still referred to' }).waitFor()
  await page.screenshot({ path: SHOTS + 'ui-device-access-delete.png' })
  await confirm.getByRole('button', { name: 'Cancel' }).click()
  t.equal((await gw.admin.get(`/api/v1/namespaces/${NS}/brokerauthentications/devices`)).status, 200, 'the authentication is kept')

  // Delete the listener, confirmed.
  await page.getByRole('button', { name: `Delete listener ${NS}/devices-listener` }).click()
  t.match(await confirm.locator('#delete-title').textContent(), `BrokerListener ${NS}/devices-listener`)
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click()
  await confirm.waitFor({ state: 'hidden' })
  await listener.waitFor({ state: 'detached' })
  t.equal((await gw.admin.get(`/api/v1/namespaces/${NS}/brokerlisteners/devices-listener`)).status, 404, 'the listener is gone from the API')
  t.equal((await authn.locator('td').nth(2).textContent())?.trim(), '—', 'the authentication is no longer used by any port')
})
