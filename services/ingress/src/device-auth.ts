import { timingSafeEqual, createHash } from 'node:crypto'
import { topicMatches } from '@flowgate/mqtt'

/** Who a connected device is, as authentication established it. */
export interface DeviceIdentity {
  clientId: string
  username?: string
  /** Subject CN of a verified client certificate (TLS listener with a client CA). */
  certificateCn?: string
}

/** What an identity may do; absent lists allow everything (authentication only). */
export interface DevicePermissions {
  publish?: string[]
  subscribe?: string[]
}

export interface ConnectAttempt {
  clientId: string
  username?: string
  password?: Buffer
  /** Set when the TLS listener verified a client certificate against its CA. */
  certificateCn?: string
}

/**
 * Device authentication and topic authorization, as the gateway configures them from stored resources.
 * Return `null` to refuse the connection (CONNACK 0x86 / return code 4).
 */
export interface DeviceAuth {
  authenticate: (attempt: ConnectAttempt) => Promise<{ identity: DeviceIdentity, permissions: DevicePermissions } | null>
}

/** Constant-time comparison that does not leak the length through an early return. */
export function passwordMatches (given: Buffer | undefined, expected: Buffer): boolean {
  if (given === undefined) return false
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

export function permits (permissions: DevicePermissions, action: 'publish' | 'subscribe', topic: string): boolean {
  const filters = permissions[action]
  if (filters === undefined) return true
  // For subscriptions the requested filter must sit inside an allowed one: `factory/+/temp` inside `factory/#`.
  return filters.some((allowed) => topicMatches(allowed, topic) || allowed === topic)
}
