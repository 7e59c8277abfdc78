import t from 'tap'
import { ingressHostOf } from '../src/commands/egress.js'

// `flowgate egress --mqtt`: the ingress' address only. TLS and credentials are the `default` endpoint's (one place
// for "MQTT endpoint → connection", shared with the publishers), so user info is refused, not silently dropped.

t.test('--mqtt gives host:port; user info, other schemes and a missing port are refused', async (t) => {
  t.equal(ingressHostOf('mqtts://flowgate-ingress:18883'), 'flowgate-ingress:18883')
  t.equal(ingressHostOf('mqtt://127.0.0.1:1883'), '127.0.0.1:1883')
  t.equal(ingressHostOf('mqtt://[::1]:1883'), '[::1]:1883')
  t.throws(() => ingressHostOf('mqtts://egress@flowgate-ingress:18883'), { code: 'FG_ERR_CLI_USAGE', message: /default` DataflowEndpoint/ })
  t.throws(() => ingressHostOf('mqtts://egress:secret@flowgate-ingress:18883'), { code: 'FG_ERR_CLI_USAGE' })
  t.throws(() => ingressHostOf('http://flowgate-ingress:18883'), { code: 'FG_ERR_CLI_USAGE' })
  t.throws(() => ingressHostOf('mqtt://flowgate-ingress'), { code: 'FG_ERR_CLI_USAGE', message: /port/ })
  t.throws(() => ingressHostOf('flowgate-ingress:18883'), { code: 'FG_ERR_CLI_USAGE' })
})
