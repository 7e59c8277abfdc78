import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { startTranslator } from '@flowgate/translator'
import { flagOrEnv, portFlag } from '../flags.js'
import { runUntilSignal } from '@flowgate/service-kit'

export const translatorUsage = `flowgate translator [--host 127.0.0.1] [--port 8082] [--log-level info]
  Runs the stateless translator service alone: POST /translate/v1/mqtt-to-kafka and /translate/v1/kafka-to-mqtt.`

export async function translator (argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { host: { type: 'string' }, port: { type: 'string' }, 'log-level': { type: 'string' } }, strict: true })
  const log = pino({ level: flagOrEnv(values, 'log-level') ?? 'info', base: { service: 'translator' } })
  const service = await startTranslator({ host: flagOrEnv(values, 'host'), port: portFlag(values, 'port'), logger: log })
  log.info({ url: `http://${service.host}:${service.port}` }, `flowgate translator listening on http://${service.host}:${service.port}`)
  return runUntilSignal(service, log)
}
