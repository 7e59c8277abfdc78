import { parseArgs } from 'node:util'
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import { mkdir } from 'node:fs/promises'
import { startIngress, storeAccessSource } from '@flowgate/ingress'
import { openStore, loadSecretKey, openSecret, sealSecret, type Store } from '@flowgate/store'
import { flagOrEnv, portFlag } from '../flags.js'
import { brokerFlagOptions, brokerFlags, brokerFlagsUsage } from '../broker-flags.js'
import { runUntilSignal } from '../run-until-signal.js'

export const ingressUsage = `flowgate ingress [--host 127.0.0.1] [--mqtt-port 1883] [--ws-port N] [--http-port 8081] [--ack-on-receipt] [--log-level info]
               [--store postgres://…|file] [--data-dir ./.flowgate] [--persistence-dir DIR] ${brokerFlagsUsage}
  Runs the embedded MQTT broker alone (split deployment): devices publish here, egress instances subscribe
  as MQTT v5 clients ($share groups). A device's QoS 1 PUBACK waits until an egress acknowledged the message
  (so: until Kafka has it); --ack-on-receipt answers at once instead. With --store (and FLOWGATE_SECRET_KEY),
  it serves the stored BrokerListeners (TLS, device authentication and authorization) and follows their changes.
  --persistence-dir keeps persistent sessions and retained messages there across restarts (else in memory).
  GET /healthz and /readyz on --http-port.`

/** The embedded broker alone, with its probes. */
export async function ingress (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, 'mqtt-port': { type: 'string' }, 'ws-port': { type: 'string' }, 'http-port': { type: 'string' }, 'ack-on-receipt': { type: 'boolean' }, 'log-level': { type: 'string' }, store: { type: 'string' }, 'data-dir': { type: 'string' }, 'persistence-dir': { type: 'string' }, ...brokerFlagOptions },
    strict: true
  })
  const flags = brokerFlags(values)
  const log = pino({ level: flagOrEnv(values, 'log-level') ?? 'info', base: { service: 'ingress' } })
  const host = flagOrEnv(values, 'host') ?? '127.0.0.1'
  const wsPort = portFlag(values, 'ws-port')
  const ackOnReceipt = values['ack-on-receipt'] === true || process.env.FLOWGATE_ACK_ON_RECEIPT === '1'
  const storeUrl = flagOrEnv(values, 'store')
  let store: Store | undefined
  let access
  if (storeUrl !== undefined) {
    const dataDir = flagOrEnv(values, 'data-dir') ?? './.flowgate'
    await mkdir(dataDir, { recursive: true })
    store = await openStore({ store: storeUrl, dataDir })
    const key = await loadSecretKey({ dataDir, env: process.env })
    access = storeAccessSource(store, { open: (s) => openSecret(s, key), seal: (s) => sealSecret(s, key) })
  }
  // Persistent sessions and retained messages: durable in this directory, else in memory.
  const persistenceDir = flagOrEnv(values, 'persistence-dir')
  const broker = await startIngress({
    host,
    ...(persistenceDir !== undefined ? { persistence: { kind: 'dir' as const, dir: persistenceDir } } : {}),
    mqttPort: portFlag(values, 'mqtt-port') ?? 1883,
    ...(wsPort !== undefined ? { wsPort } : {}),
    ackAfterSharedDelivery: !ackOnReceipt,
    logger: log,
    ...(access !== undefined ? { access } : {}),
    allowAnonymous: flags.allowAnonymous,
    limits: flags.limits,
    ...(flags.networkHost !== undefined ? { networkHost: flags.networkHost } : {})
  }).catch(async (err: unknown) => { await store?.close(); throw err })
  const app = Fastify({ loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) })
  app.get('/healthz', async () => ({ status: 'ok' }))
  const warnings = broker.anonymousOffLoopback ? ['allow-anonymous: devices connect without authentication off loopback'] : []
  app.get('/readyz', async (_req, reply) => {
    if (broker.frontDoor !== undefined && !listenersRead) return reply.code(503).send({ status: 'starting' })
    return { status: 'ready', clients: broker.broker.connectedClients, ...(warnings.length > 0 ? { warnings } : {}) }
  })
  let listenersRead = false
  void broker.frontDoor?.ready.then(() => { listenersRead = true })
  try {
    await app.listen({ host, port: portFlag(values, 'http-port') ?? 8081 })
  } catch (err) {
    await broker.close()
    await store?.close()
    throw err
  }
  const { port } = app.server.address() as { port: number }
  log.info({ mqtt: `mqtt://${broker.mqtt.host}:${broker.mqtt.port}`, http: `http://${host}:${port}` },
    `flowgate ingress listening: MQTT on ${broker.mqtt.host}:${broker.mqtt.port}, HTTP on ${host}:${port}`)
  return runUntilSignal({ close: async () => { await app.close(); await broker.close(); await store?.close() } }, log)
}
