import t from 'tap'
import { connectAsync } from 'mqtt'
import { SHOTS, launch, needsChromium, signIn } from './browser.js'
import { startGateway } from '@flowgate/gateway'
import { rig, createTopic, readRecords, uniqueTopic, startTestGateway, eventually } from '@flowgate/testkit'

// The web UI in a real browser (Debian's Chromium driven by playwright-core) against a real gateway and Kafka:
// sign in, create the seed's SASL endpoint and a dataflow through the forms, see a device's message in the tail.

const NS = 'azure-iot-operations'


t.test('an endpoint and a dataflow made in the UI carry a device message into Kafka, seen in the live tail', needsChromium, async (t) => {
  const r = await rig()
  const topic = uniqueTopic('ui')
  await createTopic(topic)
  const gw = await startTestGateway(t, startGateway)
  const secret = await fetch(`${gw.admin.base}/api/v1/namespaces/${NS}/secrets/sasl-secret`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${gw.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sasl-secret', namespace: NS }, stringData: r.users.plain })
  })
  t.equal(secret.status, 201, 'the SASL secret is created through the API')

  const page = await launch(t)
  await signIn(page, gw.admin.base, gw.token)

  // The seed's "Custom Kafka Broker" form, with one bad field first: its error lands next to that field.
  await page.getByRole('button', { name: 'New Kafka endpoint' }).click()
  const form = page.locator('#endpoint-form')
  await form.getByLabel('Name', { exact: true }).fill('kafka')
  await form.getByLabel('Namespace').fill(NS)
  await form.getByLabel('Host').fill(r.listeners.saslPlaintext)
  await form.getByLabel('Authentication method').selectOption({ label: 'SASL' })
  await form.getByLabel('SASL type').selectOption('Plain')
  await form.getByLabel('Synced secret name').fill('sasl-secret')
  await form.getByLabel('TLS mode enabled').uncheck()
  await form.getByLabel('Consumer group ID').fill('mqConnector')
  await form.getByLabel('Batching latency (ms)').fill('-5')
  await form.getByRole('button', { name: 'Apply' }).click()
  const latencyError = page.locator('.field[data-path="/spec/kafkaSettings/batching/latencyMs"] .field-error')
  await latencyError.waitFor()
  t.match(await latencyError.textContent(), />= 0|minimum|0/, 'the API\'s message for batching.latencyMs is shown beside Batching latency')
  t.equal(await form.getByLabel('Batching latency (ms)').getAttribute('aria-invalid'), 'true')
  await page.screenshot({ path: SHOTS + 'ui-endpoint-error.png' })

  await form.getByLabel('Batching latency (ms)').fill('5')
  await form.getByRole('button', { name: 'Apply' }).click()
  await page.locator('#endpoint-dialog').waitFor({ state: 'hidden' })
  await page.locator('#endpoints tbody tr', { hasText: `${NS}/kafka` }).waitFor()

  await page.getByRole('button', { name: 'New dataflow' }).click()
  const df = page.locator('#dataflow-form')
  await df.getByLabel('Name', { exact: true }).fill('ui-flow')
  await df.getByLabel('Namespace').fill(NS)
  await df.getByLabel('Source endpoint').selectOption(`${NS}/default`)
  await df.getByLabel(/Data sources/).fill('factory/#')
  await df.getByLabel('Destination endpoint').selectOption(`${NS}/kafka`)
  await df.getByLabel('Topic', { exact: true }).fill(topic)
  await df.getByRole('button', { name: 'Create' }).click()
  await page.locator('#dataflow-dialog').waitFor({ state: 'hidden' })
  await page.locator('#dataflows tbody tr', { hasText: `${NS}/ui-flow` }).waitFor()

  await page.getByRole('button', { name: `Tail dataflow ${NS}/ui-flow` }).click()
  await page.locator('#tail-status', { hasText: 'Connected' }).waitFor()

  const device = await connectAsync(`mqtt://127.0.0.1:${gw.mqtt.port}`, { protocolVersion: 5, clientId: 'ui-device' })
  t.teardown(() => device.endAsync())
  // The tail shows what Kafka acknowledged; the dataflow may still be starting, so publish until a row appears.
  let n = 0
  await eventually(async () => {
    await device.publishAsync('factory/line1/temp', JSON.stringify({ temperature: 21.5, n: n++ }), { qos: 1, properties: { contentType: 'application/json' } })
    return await page.locator('#tail-table tbody tr', { hasText: 'factory/line1/temp' }).count() > 0 ? true : undefined
  }, 60_000, 'a tail row')
  const row = await page.locator('#tail-table tbody tr').first().textContent()
  t.match(row, `factory/line1/temp → ${topic}[0]`)
  t.match(row, '"temperature":21.5')
  const records = await readRecords(topic, 1)
  t.match(String(records[0]?.value), '"temperature":21.5', 'the record is in Kafka')
  // A burst: the pane renders once per animation frame and keeps the newest 500 rows.
  for (let batch = 0; batch < 15; batch++) {
    await Promise.all(Array.from({ length: 100 }, async (_, i) => await device.publishAsync('factory/line2/burst', `burst ${batch * 100 + i}`, { qos: 1 })))
  }
  await eventually(async () => (await page.locator('#tail-table tbody tr', { hasText: 'burst' }).count()) >= 500 ? true : undefined, 30_000, 'the burst in the tail')
  t.equal(await page.locator('#tail-table tbody tr').count(), 500, 'the pane keeps the newest 500 rows')
  // Rates come from the difference of two status polls' counters.
  const rate = page.locator('#dataflows tbody tr', { hasText: `${NS}/ui-flow` }).locator('td.num').nth(3)
  await eventually(async () => /\/s$/.test(await rate.textContent() ?? '') ? true : undefined, 20_000, 'a rate')
  await page.screenshot({ path: SHOTS + 'ui-tail.png', fullPage: true })

  await page.getByRole('button', { name: `YAML of endpoint ${NS}/kafka` }).click()
  // The dialog opens at once and fills when the resource arrives: wait for the text, not for the dialog.
  const yaml = await eventually(async () => {
    const text = await page.locator('#yaml-text').textContent()
    return text?.includes('kind: DataflowEndpoint') ? text : undefined
  }, 20_000, 'the YAML of the endpoint')
  t.match(yaml, 'saslType: Plain')
  t.match(yaml, 'secretRef: sasl-secret')
  await page.screenshot({ path: SHOTS + 'ui-yaml.png' })
  await page.locator('#yaml-dialog').getByRole('button', { name: 'Close' }).click()

  // Edit: the form opens filled from the stored resource and saves conditionally on its resourceVersion.
  await page.getByRole('button', { name: `Edit endpoint ${NS}/kafka` }).click()
  await eventually(async () => (await form.getByLabel('Host').inputValue()) !== '' ? true : undefined, 20_000, 'the edit form to fill')
  t.equal(await form.getByLabel('Host').inputValue(), r.listeners.saslPlaintext)
  t.equal(await form.getByLabel('Synced secret name').inputValue(), 'sasl-secret')
  await form.getByLabel('Compression').selectOption('Gzip')
  await form.getByRole('button', { name: 'Apply' }).click()
  await page.locator('#endpoint-dialog').waitFor({ state: 'hidden' })
  await page.getByRole('button', { name: `YAML of endpoint ${NS}/kafka` }).click()
  t.match(await eventually(async () => {
    const text = await page.locator('#yaml-text').textContent()
    return text?.includes('compression: Gzip') ? text : undefined
  }, 20_000, 'the edited YAML'), 'compression: Gzip')
})

t.test('every form control has a label and every action is a button', needsChromium, async (t) => {
  const gw = await startTestGateway(t, startGateway)
  const page = await launch(t)
  await signIn(page, gw.admin.base, gw.token)
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute('aria-label')).map((el) => el.id || el.outerHTML))
  t.same(unlabelled, [])
  const clickableNonButtons = await page.evaluate(() => [...document.querySelectorAll('[onclick], a:not([href])')].length)
  t.equal(clickableNonButtons, 0)
  // Keyboard: Tab from the page start reaches the tail's Start button.
  let reached = false
  for (let i = 0; i < 60 && !reached; i++) {
    await page.keyboard.press('Tab')
    reached = await page.evaluate(() => document.activeElement?.id === 'tail-connect')
  }
  t.ok(reached, 'the tail Start button is reachable with Tab')
})
