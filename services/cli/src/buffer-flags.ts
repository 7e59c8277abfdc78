import type { EgressOptions } from '@flowgate/egress'
import { FG_ERR_CLI_BAD_FLAG } from './errors.js'
import { flagOrEnv } from './flags.js'

/** The dataflow buffer's flags, shared by `start` and `egress`; each has a FLOWGATE_* twin. */
export const bufferFlagOptions = {
  'buffer-messages': { type: 'string' },
  'buffer-bytes': { type: 'string' }
} as const

export const bufferFlagsUsage = '[--buffer-messages 10000] [--buffer-bytes 67108864]'

export type DataflowBuffer = Partial<Pick<EgressOptions, 'bufferMessages' | 'bufferBytes'>>

/** What each dataflow may hold while Kafka is slow or down: past it, QoS 1 publishes wait unacknowledged. */
export function bufferFlags (values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): DataflowBuffer {
  const out: DataflowBuffer = {}
  for (const [key, flag] of [['bufferMessages', 'buffer-messages'], ['bufferBytes', 'buffer-bytes']] as const) {
    const raw = flagOrEnv(values, flag, env)
    if (raw === undefined) continue
    const n = Number(raw)
    if (!Number.isSafeInteger(n) || n < 1) throw FG_ERR_CLI_BAD_FLAG(flag, raw, 'a positive integer')
    out[key] = n
  }
  return out
}
