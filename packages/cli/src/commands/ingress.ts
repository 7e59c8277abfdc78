import { parseArgs } from 'node:util'
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import { startIngress } from '@flowgate/ingress'
import { flagOrEnv, portFlag } from '../flags.js'
import { runUntilSignal } from '../run-until-signal.js'

export const ingressUsage = `flowgate ingress [--host 127.0.0.1] [--mqtt-port 1883] [--ws-port N] [--http-port 8081] [--ack-on-receipt] [--log-level info]
  Runs the embedded MQTT broker alone (split deployment): devices publish here, egress instances subscribe
  as MQTT v5 clients ($share groups). A device's QoS 1 PUBACK waits until an egress acknowledged the message
  (so: until Kafka has it); --ack-on-receipt answers at once instead. GET /healthz and /readyz on --http-port.`

/** The embedded broker alone, with its probes. */
export async function ingress (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, 'mqtt-port': { type: 'string' }, 'ws-port': { type: 'string' }, 'http-port': { type: 'string' }, 'ack-on-receipt': { type: 'boolean' }, 'log-level': { type: 'string' } },
    strict: true
  })
  const log = pino({ level: flagOrEnv(values, 'log-level') ?? 'info', base: { service: 'ingress' } })
  const host = flagOrEnv(values, 'host') ?? '127.0.0.1'
  const wsPort = portFlag(values, 'ws-port')
  const ackOnReceipt = values['ack-on-receipt'] === true || process.env.FLOWGATE_ACK_ON_RECEIPT === '1'
  const broker = await startIngress({ host, mqttPort: portFlag(values, 'mqtt-port') ?? 1883, ...(wsPort !== undefined ? { wsPort } : {}), ackAfterSharedDelivery: !ackOnReceipt, logger: log })
  const app = Fastify({ loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async () => ({ status: 'ready', clients: broker.broker.connectedClients }))
  try {
    await app.listen({ host, port: portFlag(values, 'http-port') ?? 8081 })
  } catch (err) {
    await broker.close()
    throw err
  }
  const { port } = app.server.address() as { port: number }
  log.info({ mqtt: `mqtt://${broker.mqtt.host}:${broker.mqtt.port}`, http: `http://${host}:${port}` },
    `flowgate ingress listening: MQTT on ${broker.mqtt.host}:${broker.mqtt.port}, HTTP on ${host}:${port}`)
  return runUntilSignal({ close: async () => { await app.close(); await broker.close() } }, log)
}
