import { isIP } from 'node:net'
import { FG_ERR_CLI_BAD_FLAG } from './errors.js'
import { flagOrEnv } from './flags.js'

export const kafkaHostFlagOptions = {
  'kafka-host-alias': { type: 'string', multiple: true }
} as const

export const kafkaHostFlagsUsage = '[--kafka-host-alias name=address …]'

/**
 * `--kafka-host-alias kafka.ns.svc.cluster.local=10.0.0.7` (repeatable; the FLOWGATE_KAFKA_HOST_ALIAS twin takes a
 * comma-separated list): Kafka broker names the gateway resolves to these addresses instead of asking DNS — the
 * manifests of a cluster, applied as they are on a machine where their in-cluster names do not resolve. TLS still
 * checks the certificate against the name, not the address.
 */
export function kafkaHostAliases (values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const given = values['kafka-host-alias']
  const entries = Array.isArray(given) ? given as string[] : (flagOrEnv({}, 'kafka-host-alias', env)?.split(',').filter((s) => s.trim() !== '') ?? [])
  const aliases: Record<string, string> = {}
  for (const entry of entries) {
    const eq = entry.indexOf('=')
    const name = entry.slice(0, eq).trim().toLowerCase()
    const address = entry.slice(eq + 1).trim()
    if (eq < 1 || name === '' || isIP(address) === 0) throw FG_ERR_CLI_BAD_FLAG('kafka-host-alias', entry, 'name=address with an IPv4 or IPv6 address, e.g. kafka.ns.svc.cluster.local=127.0.0.1')
    aliases[name] = address
  }
  return aliases
}
