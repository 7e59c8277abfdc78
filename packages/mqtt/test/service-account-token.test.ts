import t from 'tap'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mqttClientOptions } from '../src/client-options.js'
import { readServiceAccountTokenFile, serviceAccountTokenFile } from '../src/client-options.js'

// The token file is sent as authentication data to the host the endpoint names: an audience that climbs out of the
// token directory would send any readable file there (the key that seals every Secret included).
const hostile = ['../../../../work/.flowgate/secret.key', '../secret.key', '/etc/passwd', 'a/b', 'a\\b', '..', '.', '..data',
  'a..b', '.hidden', '', ' aio', 'aio\n', 'aio\0', 'aud%2F..']

const satSettings = (audience: string) => ({
  host: 'broker.example:8883',
  authentication: { method: 'ServiceAccountToken' as const, serviceAccountTokenSettings: { audience } }
})

t.test('an audience that is not a plain name is refused before any file is read', async (t) => {
  for (const audience of hostile) {
    let read = false
    t.throws(() => mqttClientOptions(satSettings(audience), {}, { clientId: 'c', readServiceAccountToken: () => { read = true; return 'x' } }),
      { code: 'FG_ERR_MQTT_CONFIG', message: /audience .*plain name/ }, JSON.stringify(audience))
    t.notOk(read, `${JSON.stringify(audience)}: nothing read`)
    t.throws(() => serviceAccountTokenFile(audience, '/var/run/secrets/tokens'), { code: 'FG_ERR_MQTT_CONFIG' }, JSON.stringify(audience))
  }
})

t.test('a plain audience names a file inside the token directory', async (t) => {
  for (const audience of ['aio-internal', 'my.audience_1', 'A1', 'api.eventgrid.azure.net']) {
    t.equal(serviceAccountTokenFile(audience, '/var/run/secrets/tokens'), `/var/run/secrets/tokens/${audience}`)
  }
  const sat = mqttClientOptions(satSettings('aio-internal'), {}, { clientId: 'c', readServiceAccountToken: (a) => `token-for-${a}` })
  t.same(await sat.refreshAuthentication!(), Buffer.from('token-for-aio-internal'))
})

t.test('the default reader reads <dir>/<audience> and nothing outside it', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'flowgate-sat-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const dir = join(root, 'tokens')
  await mkdir(dir)
  await writeFile(join(dir, 'aio-internal'), 'eyJhbGciOi.token\n')
  await writeFile(join(root, 'secret.key'), 'SEALING-KEY-MATERIAL')
  t.equal(readServiceAccountTokenFile('aio-internal', dir), 'eyJhbGciOi.token')
  t.throws(() => readServiceAccountTokenFile('../secret.key', dir), { code: 'FG_ERR_MQTT_CONFIG' })
  t.throws(() => readServiceAccountTokenFile(join(root, 'secret.key'), dir), { code: 'FG_ERR_MQTT_CONFIG' })
})
