import t from 'tap'
import { kafkaHostAliases } from '../src/kafka-host-flags.js'

t.test('--kafka-host-alias name=address (repeated, or FLOWGATE_KAFKA_HOST_ALIAS as a list) maps broker names', async (t) => {
  t.same(kafkaHostAliases({}, {}), {}, 'unset: DNS for every name')
  t.same(kafkaHostAliases({ 'kafka-host-alias': ['Kafka.NS.svc.cluster.local=127.0.0.1', 'hub.servicebus.windows.net=::1'] }, {}),
    { 'kafka.ns.svc.cluster.local': '127.0.0.1', 'hub.servicebus.windows.net': '::1' }, 'names compare as DNS does, case-insensitively')
  t.same(kafkaHostAliases({}, { FLOWGATE_KAFKA_HOST_ALIAS: 'a.example=127.0.0.2, b.example=127.0.0.3' }), { 'a.example': '127.0.0.2', 'b.example': '127.0.0.3' })
})

t.test('an entry without a name or with an address that is not an IP is refused naming the flag and the entry', async (t) => {
  for (const bad of ['kafka.local', '=127.0.0.1', 'kafka.local=', 'kafka.local=other.host']) {
    t.throws(() => kafkaHostAliases({ 'kafka-host-alias': [bad] }, {}), { code: 'FG_ERR_CLI_BAD_FLAG', message: new RegExp(`^--kafka-host-alias ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected name=address`) }, bad)
  }
})
