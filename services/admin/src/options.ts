/** Admin options and their defaults in one place. */
export const adminDefaults = {
  /** Where the generated token lives, relative to the data directory (DESIGN §3). */
  tokenFile: 'admin-token',
  /** Largest request body: a manifest of many resources, with certificates, fits well within it. */
  bodyLimit: 4 * 1024 * 1024,
  host: '127.0.0.1',
  port: 8080
} as const

/** Annotation on a Secret read back with its values emptied; writing it back is refused rather than wiping values. */
export const REDACTED_ANNOTATION = 'flowgate.dev/redacted'

/** What a dataflow or endpoint reads as before the runtime has written any status. */
export const PENDING_STATUS = { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'Pending' }] } as const
