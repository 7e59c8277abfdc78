import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { startStandaloneAdmin } from '@flowgate/admin'
import { flagOrEnv, portFlag } from '../flags.js'
import { runUntilSignal } from '@flowgate/service-kit'

export const adminUsage = `flowgate admin [--host 127.0.0.1] [--http-port 8080] [--data-dir ./.flowgate] [--store file|postgres://…]
               [--mqtt-host localhost:1883] [--log-level info]
  Runs the admin API alone (split deployment). Several replicas share one PostgreSQL store; they need the same
  FLOWGATE_ADMIN_TOKEN and FLOWGATE_SECRET_KEY. --mqtt-host is the ingress as the default endpoint names it.`

/** The flags → services/admin's standalone start-up (standalone.ts), run until a signal. */
export async function admin (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, 'http-port': { type: 'string' }, 'data-dir': { type: 'string' }, store: { type: 'string' }, 'mqtt-host': { type: 'string' }, 'log-level': { type: 'string' } },
    strict: true
  })
  const log = pino({ level: flagOrEnv(values, 'log-level') ?? 'info', base: { service: 'admin' } })
  const mqttHost = flagOrEnv(values, 'mqtt-host')
  const service = await startStandaloneAdmin({
    dataDir: flagOrEnv(values, 'data-dir') ?? './.flowgate',
    store: flagOrEnv(values, 'store') ?? 'file',
    host: flagOrEnv(values, 'host'),
    port: portFlag(values, 'http-port'),
    ...(mqttHost !== undefined ? { mqttHost } : {}),
    logger: log
  })
  return runUntilSignal(service, log)
}
