/**
 * How a drop is told to an MQTT 5 device in its PUBACK. PUBACK allows only a few reason codes
 * (MQTT 5 §3.4.2.1): we pick the closest and say the rest in the reason string.
 */
export const PubackReason = {
  unspecified: 0x80,
  implementationSpecific: 0x83,
  notAuthorized: 0x87,
  topicNameInvalid: 0x90,
  quotaExceeded: 0x97,
  payloadFormatInvalid: 0x99
} as const

const byDropReason: Record<string, number> = {
  'invalid-topic': PubackReason.topicNameInvalid,
  'topic-missing': PubackReason.topicNameInvalid,
  'too-large': PubackReason.quotaExceeded,
  'not-authorized': PubackReason.notAuthorized,
  'expired': PubackReason.unspecified
}

export function pubackReasonFor (dropReason: string): number {
  return byDropReason[dropReason] ?? PubackReason.implementationSpecific
}

/** Destination error codes (from @flowgate/kafka) to the drop reasons counted in metrics and status. */
export function dropReasonOf (code: string): string {
  switch (code) {
    case 'FG_ERR_KAFKA_TOO_LARGE': return 'too-large'
    case 'FG_ERR_KAFKA_NOT_AUTHORIZED': return 'not-authorized'
    case 'FG_ERR_KAFKA_TOPIC_MISSING': return 'topic-missing'
    default: return 'rejected'
  }
}

/**
 * Failures of the endpoint rather than of a record: every record would fail the same way until the user fixes the
 * endpoint or its Secret (which restarts the dataflow). The flow holds its messages and reports the cause instead of
 * dropping them one by one.
 */
// A refused ACL (topic or cluster authorization) is fixed by an operator, like a wrong password: the messages wait.
const ENDPOINT_FAILURES = new Set(['FG_ERR_KAFKA_AUTH_FAILED', 'FG_ERR_KAFKA_CONFIG', 'FG_ERR_KAFKA_NOT_AUTHORIZED'])

export function holdsTheFlow (code: string): boolean {
  return ENDPOINT_FAILURES.has(code)
}
