import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** kafkajs' CRC-32C module, as patches/kafkajs@2.2.4.patch leaves it: an implementation can be swapped in. */
interface KafkajsCrc32C {
  (buffer: Buffer): number
  javascript: (buffer: Buffer) => number
  setImplementation: (fn?: (buffer: Buffer) => number) => void
}

/** The CRC-32C check value of "123456789" (RFC 3720, B.4). */
const CHECK_VALUE = 0xe3069283

/**
 * Every record batch kafkajs writes carries a CRC-32C of the whole batch. In JavaScript that was 5 % of the gateway's
 * CPU at 62,000 msg/s; @node-rs/crc32 computes it with the CPU's CRC32 instruction. Where its prebuilt binary is
 * missing or answers wrongly, kafkajs keeps its own (patched, slicing-by-8) JavaScript. Returns which one is in use.
 */
export function useNativeCrc32C (): 'native' | 'javascript' {
  const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C') as KafkajsCrc32C
  let crc32c: ((input: Buffer, initialState?: number) => number) | undefined
  try {
    crc32c = (require('@node-rs/crc32') as { crc32c: typeof crc32c }).crc32c
  } catch {
    return 'javascript'
  }
  if (crc32c === undefined || crc32c(Buffer.from('123456789')) !== CHECK_VALUE) return 'javascript'
  const native = crc32c
  kafkajsCrc.setImplementation((buffer) => native(buffer))
  return 'native'
}
