import t from 'tap'
import { validate } from '../src/validate.js'

// The audience names the token file the runtime reads and sends to the broker: only a plain file name may pass.
const mqttEndpoint = (audience: string): Record<string, unknown> => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name: 'aio-broker', namespace: 'ns1' },
  spec: {
    endpointType: 'Mqtt',
    mqttSettings: { host: 'aio-broker:18883', authentication: { method: 'ServiceAccountToken', serviceAccountTokenSettings: { audience } } }
  }
})

const AUDIENCE_PATH = '/spec/mqttSettings/authentication/serviceAccountTokenSettings/audience'

t.test('an MQTT endpoint\'s ServiceAccountToken audience must be a plain name', async (t) => {
  for (const audience of ['../../.flowgate/secret.key', '/etc/passwd', 'a/b', '..', '.', '..data', 'a..b', '.hidden', 'a b', 'a\\b']) {
    const r = validate(mqttEndpoint(audience))
    t.notOk(r.ok, JSON.stringify(audience))
    if (!r.ok) t.same(r.errors.map((e) => e.path), [AUDIENCE_PATH], JSON.stringify(audience))
  }
  for (const audience of ['aio-internal', 'my.audience_1', 'api.eventgrid.azure.net']) {
    const r = validate(mqttEndpoint(audience))
    t.ok(r.ok, `${audience}: ${r.ok ? '' : JSON.stringify(r.errors)}`)
  }
})
