import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { startStandaloneIngress } from '@flowgate/ingress'
import { runUntilSignal } from '@flowgate/service-kit'
import { flagOrEnv, portFlag } from '../flags.js'
import { brokerFlagOptions, brokerFlags, brokerFlagsUsage } from '../broker-flags.js'
import { FG_ERR_CLI_USAGE } from '../errors.js'

export const ingressUsage = `flowgate ingress [--host 127.0.0.1] [--mqtt-port 1883] [--ws-port N] [--http-port 8081] [--ack-on-receipt] [--log-level info]
               [--store postgres://…|file] [--data-dir ./.flowgate] [--persistence-dir DIR | --persistence-url redis://…]
               [--egress-grace-seconds 15] [--share-group-expiry-seconds 3600] [--share-group-max-bytes N] ${brokerFlagsUsage}
  Runs the embedded MQTT broker alone (split deployment): devices publish here, egress instances subscribe
  as MQTT v5 clients ($share groups, or plain: an egress' own group). A device's QoS 1 PUBACK waits until an
  egress acknowledged the message (so: until Kafka has it); --ack-on-receipt answers at once instead. For
  --egress-grace-seconds (15) after start, PUBACKs wait for the egress subscriptions to come back. A group
  without members keeps its messages (at most --share-group-max-bytes, 64 MiB; oldest dropped, counted in
  /metrics) for --share-group-expiry-seconds (3600). With --store (and FLOWGATE_SECRET_KEY),
  it serves the stored BrokerListeners (TLS, device authentication and authorization) and follows their changes.
  --persistence-dir keeps persistent sessions and retained messages there across restarts (else in memory);
  --persistence-url redis://[:password@]host:6379[/db] keeps them in Redis instead, where several ingress
  processes share them (aedes-persistence-redis).
  GET /healthz, /readyz and /metrics on --http-port.`

/** The flags → services/ingress' standalone start-up (standalone.ts), run until a signal. */
export async function ingress (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, 'mqtt-port': { type: 'string' }, 'ws-port': { type: 'string' }, 'http-port': { type: 'string' }, 'ack-on-receipt': { type: 'boolean' }, 'egress-grace-seconds': { type: 'string' }, 'share-group-expiry-seconds': { type: 'string' }, 'share-group-max-bytes': { type: 'string' }, 'log-level': { type: 'string' }, store: { type: 'string' }, 'data-dir': { type: 'string' }, 'persistence-dir': { type: 'string' }, 'persistence-url': { type: 'string' }, ...brokerFlagOptions },
    strict: true
  })
  const flags = brokerFlags(values)
  const log = pino({ level: flagOrEnv(values, 'log-level') ?? 'info', base: { service: 'ingress' } })
  const wsPort = portFlag(values, 'ws-port')
  const ackOnReceipt = values['ack-on-receipt'] === true || process.env.FLOWGATE_ACK_ON_RECEIPT === '1'
  const number = (name: 'egress-grace-seconds' | 'share-group-expiry-seconds' | 'share-group-max-bytes', fallback: number): number => {
    const text = flagOrEnv(values, name)
    const n = text === undefined ? fallback : Number(text)
    if (!Number.isFinite(n) || n < 0) throw FG_ERR_CLI_USAGE(`--${name} must be a number ≥ 0 (got ${JSON.stringify(text)})`)
    return n
  }
  const sharedSubscriptions = {
    egressGraceMs: number('egress-grace-seconds', 15) * 1000,
    groupExpiryMs: number('share-group-expiry-seconds', 3600) * 1000,
    maxGroupQueuedBytes: number('share-group-max-bytes', 64 * 1024 * 1024)
  }
  const storeUrl = flagOrEnv(values, 'store')
  // Persistent sessions and retained messages: durable in this directory, or in Redis, else in memory.
  const persistenceDir = flagOrEnv(values, 'persistence-dir')
  const persistenceUrl = flagOrEnv(values, 'persistence-url')
  if (persistenceDir !== undefined && persistenceUrl !== undefined) throw FG_ERR_CLI_USAGE('--persistence-dir and --persistence-url: give one of them')
  if (persistenceUrl !== undefined && !/^rediss?:\/\//.test(persistenceUrl)) throw FG_ERR_CLI_USAGE(`--persistence-url must be a redis:// or rediss:// URL (got ${JSON.stringify(persistenceUrl.replace(/\/\/[^@/]*@/, '//…@'))})`)
  const persistence = persistenceDir !== undefined
    ? { kind: 'dir' as const, dir: persistenceDir }
    : persistenceUrl !== undefined ? { kind: 'redis' as const, url: persistenceUrl } : undefined
  const service = await startStandaloneIngress({
    host: flagOrEnv(values, 'host') ?? '127.0.0.1',
    mqttPort: portFlag(values, 'mqtt-port') ?? 1883,
    httpPort: portFlag(values, 'http-port') ?? 8081,
    ...(wsPort !== undefined ? { wsPort } : {}),
    ...(storeUrl !== undefined ? { store: { url: storeUrl, dataDir: flagOrEnv(values, 'data-dir') ?? './.flowgate' } } : {}),
    ...(persistence !== undefined ? { persistence } : {}),
    ackAfterSharedDelivery: !ackOnReceipt,
    sharedSubscriptions,
    allowAnonymous: flags.allowAnonymous,
    limits: flags.limits,
    ...(flags.networkHost !== undefined ? { networkHost: flags.networkHost } : {}),
    logger: log
  })
  return runUntilSignal(service, log)
}
