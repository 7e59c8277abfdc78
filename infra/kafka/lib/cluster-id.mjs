import { randomBytes } from 'node:crypto'

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (Kafka's Uuid). Never one starting with '-':
 * kafka-storage's argument parser takes `-t -By6o…` for an option and refuses to format (1 start in 64).
 */
export function clusterId () {
  for (;;) {
    const b = randomBytes(16)
    b[6] = (b[6] & 0x0f) | 0x40 // version 4, as java.util.UUID.randomUUID() makes them
    b[8] = (b[8] & 0x3f) | 0x80
    const id = b.toString('base64url')
    if (!id.startsWith('-')) return id
  }
}
