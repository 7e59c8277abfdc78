// The MQTT half of a Kafka → MQTT flow alone: services/ingress (aedes) in a process of its own, fed in process
// through the same embedded publisher the flow uses (a window of 1000 QoS 1 publishes, each waiting for aedes), with
// no Kafka and no translation. Prints `{"mqttPort": N}`; a stdin line `<count> <topic> [same]` starts a feed of that
// many 256-byte messages and prints `{"done": true}` when the last one was handed on. With `same`, each message carries
// the user properties the flow's messages carry (the seed's "Key" and "Timestamp" of a keyed record), so the
// broker's part of the work is the flow's exactly. Closes on SIGTERM.
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import { startIngress } from '@flowgate/ingress'
import { embeddedPublisher } from '@flowgate/mqtt'

const ingress = await startIngress({ host: '127.0.0.1', mqttPort: 0, logger: pino({ level: 'silent' }) })
const publisher = embeddedPublisher(ingress.broker as Parameters<typeof embeddedPublisher>[0])
process.stdout.write(JSON.stringify({ mqttPort: ingress.mqtt.port }) + '\n')

async function feed (count: number, topic: string, sameAsFlow: boolean): Promise<void> {
  const payload = Buffer.alloc(256, 'x')
  const window: Array<Promise<void>> = []
  const timestamp = Date.now()
  for (let i = 0; i < count; i++) {
    const properties = sameAsFlow ? { userProperties: { Key: `k${i % 16}`, Timestamp: String(timestamp + i) } } : undefined
    window.push(publisher.publish({ topic, payload, qos: 1, retain: false, ...(properties ? { properties } : {}) }))
    if (window.length >= publisher.maxInflight) await window.shift()
  }
  await Promise.all(window)
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [count, topic, same] = line.trim().split(' ')
  void feed(Number(count), topic ?? 'bench/feed', same === 'same').then(() => process.stdout.write(JSON.stringify({ done: true }) + '\n'))
})
process.once('SIGTERM', () => { void ingress.close().finally(() => process.exit(0)) })
