import t from 'tap'
import { connectAsync } from 'mqtt'
import { pino } from 'pino'
import { startIngress } from '@flowgate/ingress'
import { createMqttNetworkSource, subscriptionFilters } from '../src/mqtt-network-source.js'
import type { InboundMqttMessage } from '../src/ports.js'
import type { PublishOutcome } from '../src/mqtt-to-kafka-flow.js'
import type { ResolvedDataflow } from '../src/resolve.js'

const quiet = pino({ level: 'silent' })

function dataflow (port: number, instanceCount = 1): ResolvedDataflow {
  return {
    key: 'Dataflow/ns/df',
    name: 'df',
    namespace: 'ns',
    source: { name: 'src', namespace: 'ns', resourceVersion: '1', embedded: false, spec: { endpointType: 'Mqtt', mqttSettings: { host: `127.0.0.1:${port}`, tls: { mode: 'Disabled' } } }, dataSources: ['in/#'] },
    destination: { name: 'k', namespace: 'ns', resourceVersion: '1', embedded: false, spec: { endpointType: 'Kafka', kafkaSettings: {} }, dataDestination: 'out' },
    instanceCount,
    fingerprint: '1'
  }
}

async function until (check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('instanceCount > 1 subscribes through the dataflow\'s share group', async (t) => {
  t.same(subscriptionFilters(dataflow(1, 2), false), ['$share/flowgate-ns-df/in/#'])
  t.same(subscriptionFilters(dataflow(1, 1), false), ['in/#'])
  t.same(subscriptionFilters(dataflow(1, 1), true), ['$share/flowgate-ns-df/in/#'])
})

for (const shared of [false, true]) {
  t.test(`${shared ? 'shared' : 'plain'} subscription: a message whose outcome never settled comes again after a restart; a settled one does not`, async (t) => {
    const ingress = await startIngress({ mqttPort: 0, logger: quiet })
    t.teardown(() => ingress.close())
    const source = createMqttNetworkSource({ shared, drainMs: 100 })
    const firstRun: string[] = []
    const gates = new Map<string, (o: PublishOutcome) => void>()
    const one = await source(dataflow(ingress.mqtt.port), {
      instanceId: 0,
      logger: quiet,
      accept: (m: InboundMqttMessage) => { firstRun.push(m.payload.toString()); return new Promise((resolve) => gates.set(m.payload.toString(), resolve)) }
    })
    const device = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5 })
    t.teardown(() => device.endAsync())
    await device.publishAsync('in/a', 'settled', { qos: 1 })
    await device.publishAsync('in/a', 'pending', { qos: 1 })
    await until(() => firstRun.length === 2, 'both messages taken')
    gates.get('settled')!({})
    await new Promise((resolve) => setTimeout(resolve, 200))
    await one.close()

    const secondRun: string[] = []
    const two = await source(dataflow(ingress.mqtt.port), { instanceId: 0, logger: quiet, accept: async (m) => { secondRun.push(m.payload.toString()); return {} } })
    t.teardown(() => two.close())
    await until(() => secondRun.includes('pending'), 'the unacknowledged message again')
    await device.publishAsync('in/b', 'later', { qos: 1 })
    await until(() => secondRun.includes('later'), 'new messages')
    t.notOk(secondRun.includes('settled'), 'the acknowledged message is not sent again')
  })
}

t.test('PUBACKs leave in arrival order even when outcomes settle out of order', async (t) => {
  const ingress = await startIngress({ mqttPort: 0, logger: quiet })
  t.teardown(() => ingress.close())
  const acks: number[] = []
  ingress.broker.on('ack', (_p, client, ack) => { if (client.id.startsWith('flowgate-egress') && ack?.messageId !== undefined) acks.push(ack.messageId) })
  const gates: Array<(o: PublishOutcome) => void> = []
  const ids: number[] = []
  const source = createMqttNetworkSource({})
  const s = await source(dataflow(ingress.mqtt.port), { instanceId: 0, logger: quiet, accept: () => new Promise((resolve) => gates.push(resolve)) })
  t.teardown(() => s.close())
  const device = await connectAsync(`mqtt://127.0.0.1:${ingress.mqtt.port}`, { protocolVersion: 5 })
  t.teardown(() => device.endAsync())
  for (let i = 0; i < 3; i++) await device.publishAsync('in/o', String(i), { qos: 1 })
  await until(() => gates.length === 3, 'three messages taken')
  gates[2]!({}); gates[1]!({})
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(acks.length, 0, 'nothing acknowledged while the first is pending')
  gates[0]!({})
  await until(() => acks.length === 3, 'three PUBACKs')
  ids.push(...acks)
  t.same(ids, [...ids].sort((a, b) => a - b), 'in order')
})
