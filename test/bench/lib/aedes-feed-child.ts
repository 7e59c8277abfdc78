// The MQTT half of a Kafka → MQTT flow alone: services/ingress (aedes) in a process of its own, fed in process
// through the same embedded publisher the flow uses (a window of 1000 QoS 1 publishes, each waiting for aedes), with
// no Kafka and no translation. Prints `{"mqttPort": N}`; a stdin line `<count> <topic>` starts a feed of that many
// 256-byte messages and prints `{"done": true}` when the last one was handed on. Closes on SIGTERM.
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import { startIngress } from '@flowgate/ingress'
import { embeddedPublisher } from '@flowgate/mqtt'

const ingress = await startIngress({ host: '127.0.0.1', mqttPort: 0, logger: pino({ level: 'silent' }) })
const publisher = embeddedPublisher(ingress.broker as Parameters<typeof embeddedPublisher>[0])
process.stdout.write(JSON.stringify({ mqttPort: ingress.mqtt.port }) + '\n')

async function feed (count: number, topic: string): Promise<void> {
  const payload = Buffer.alloc(256, 'x')
  const window: Array<Promise<void>> = []
  for (let i = 0; i < count; i++) {
    window.push(publisher.publish({ topic, payload, qos: 1, retain: false }))
    if (window.length >= publisher.maxInflight) await window.shift()
  }
  await Promise.all(window)
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [count, topic] = line.trim().split(' ')
  void feed(Number(count), topic ?? 'bench/feed').then(() => process.stdout.write(JSON.stringify({ done: true }) + '\n'))
})
process.once('SIGTERM', () => { void ingress.close().finally(() => process.exit(0)) })
