import { parseArgs } from 'node:util'
import { mkdir } from 'node:fs/promises'
import { pino } from 'pino'
import { startAdmin } from '@flowgate/admin'
import { openStore } from '@flowgate/store'
import { flagOrEnv, portFlag } from '../flags.js'
import { runUntilSignal } from '@flowgate/service-kit'

export const adminUsage = `flowgate admin [--host 127.0.0.1] [--http-port 8080] [--data-dir ./.flowgate] [--store file|postgres://…]
               [--mqtt-host localhost:1883] [--log-level info]
  Runs the admin API alone (split deployment). Several replicas share one PostgreSQL store; they need the same
  FLOWGATE_ADMIN_TOKEN and FLOWGATE_SECRET_KEY. --mqtt-host is the ingress as the default endpoint names it.`

export async function admin (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, 'http-port': { type: 'string' }, 'data-dir': { type: 'string' }, store: { type: 'string' }, 'mqtt-host': { type: 'string' }, 'log-level': { type: 'string' } },
    strict: true
  })
  const log = pino({ level: flagOrEnv(values, 'log-level') ?? 'info', base: { service: 'admin' } })
  const dataDir = flagOrEnv(values, 'data-dir') ?? './.flowgate'
  await mkdir(dataDir, { recursive: true })
  const store = await openStore({ store: flagOrEnv(values, 'store') ?? 'file', dataDir })
  const mqttHost = flagOrEnv(values, 'mqtt-host')
  try {
    const service = await startAdmin({ dataDir, store, logger: log, host: flagOrEnv(values, 'host'), port: portFlag(values, 'http-port'), ...(mqttHost !== undefined ? { mqttHost } : {}) })
    log.info({ url: service.url }, `flowgate admin listening on ${service.url}`)
    return await runUntilSignal({ close: async () => { await service.close(); await store.close() } }, log)
  } catch (err) {
    await store.close()
    throw err
  }
}
