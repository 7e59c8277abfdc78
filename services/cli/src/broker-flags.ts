import type { BrokerLimits } from '@flowgate/ingress'
import { FG_ERR_CLI_BAD_FLAG } from './errors.js'
import { flagOrEnv } from './flags.js'

/** The broker's flags, shared by `start` and `ingress`; each has a FLOWGATE_* twin. */
export const brokerFlagOptions = {
  'allow-anonymous': { type: 'boolean' },
  'listener-host': { type: 'string' },
  'receive-maximum': { type: 'string' },
  'max-packet-size': { type: 'string' },
  'max-connections': { type: 'string' },
  'max-keep-alive': { type: 'string' },
  'max-held-bytes': { type: 'string' }
} as const

export const brokerFlagsUsage = `[--allow-anonymous] [--listener-host ::] [--receive-maximum 65535] [--max-packet-size 1048576]
               [--max-connections 50000] [--max-keep-alive 0] [--max-held-bytes 268435456]`

const LIMIT_FLAGS: Array<[keyof BrokerLimits, string, number]> = [
  ['receiveMaximum', 'receive-maximum', 65535],
  ['maximumPacketSize', 'max-packet-size', 268435455],
  ['maxConnections', 'max-connections', 10_000_000],
  ['maxKeepAliveSeconds', 'max-keep-alive', 65535],
  ['maxHeldBytes', 'max-held-bytes', Number.MAX_SAFE_INTEGER]
]

export interface BrokerFlags {
  allowAnonymous: boolean
  networkHost?: string
  limits: Partial<BrokerLimits>
}

export function brokerFlags (values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): BrokerFlags {
  const limits: Partial<BrokerLimits> = {}
  for (const [key, flag, max] of LIMIT_FLAGS) {
    const raw = flagOrEnv(values, flag, env)
    if (raw === undefined) continue
    const n = Number(raw)
    // Receive Maximum 0 is a protocol error (§3.2.2.3.3); 0 elsewhere means "no limit" only for keep-alive.
    const min = key === 'maxKeepAliveSeconds' ? 0 : 1
    if (!Number.isInteger(n) || n < min || n > max) throw FG_ERR_CLI_BAD_FLAG(flag, raw, `an integer from ${min} to ${max}`)
    limits[key] = n
  }
  const host = flagOrEnv(values, 'listener-host', env)
  return {
    allowAnonymous: values['allow-anonymous'] === true || env.FLOWGATE_ALLOW_ANONYMOUS === '1' || env.FLOWGATE_ALLOW_ANONYMOUS === 'true',
    ...(host !== undefined ? { networkHost: host } : {}),
    limits
  }
}
