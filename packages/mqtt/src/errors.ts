/** Stable error codes of @flowgate/mqtt: callers and tests act on `code` and `permanent`, never on texts. */
export type MqttErrorCode =
  | 'FG_ERR_MQTT_CONFIG'
  | 'FG_ERR_MQTT_UNAVAILABLE'
  | 'FG_ERR_MQTT_TIMEOUT'
  | 'FG_ERR_MQTT_REFUSED'
  | 'FG_ERR_MQTT_AUTH_FAILED'
  | 'FG_ERR_MQTT_CLOSED'

export class MqttEndpointError extends Error {
  readonly code: MqttErrorCode
  /** The broker refused this very message (PUBACK reason code): a retry would be refused again. */
  readonly permanent: boolean
  /** The MQTT 5 reason code, when the broker gave one. */
  readonly reasonCode?: number

  constructor (code: MqttErrorCode, message: string, opts: { permanent?: boolean, reasonCode?: number, cause?: unknown } = {}) {
    super(`${code}: ${message}`, { cause: opts.cause })
    this.name = 'MqttEndpointError'
    this.code = code
    this.permanent = opts.permanent ?? false
    if (opts.reasonCode !== undefined) this.reasonCode = opts.reasonCode
  }
}

export const mqttConfigError = (message: string): MqttEndpointError => new MqttEndpointError('FG_ERR_MQTT_CONFIG', message, { permanent: true })

/**
 * PUBACK reason codes (MQTT 5 §3.4.2.1) that refuse the message itself — it will be refused again: not authorized,
 * topic name invalid, packet too large, payload format invalid. Others (unspecified, implementation specific,
 * quota exceeded, packet identifier in use) may pass on a later attempt.
 */
const PERMANENT_PUBACK = new Set([0x87, 0x90, 0x95, 0x99])

export function pubackError (reasonCode: number, reasonString?: string): MqttEndpointError {
  const text = `broker refused the publish with reason code 0x${reasonCode.toString(16)}${reasonString ? ` (${reasonString})` : ''}`
  return new MqttEndpointError(PERMANENT_PUBACK.has(reasonCode) ? 'FG_ERR_MQTT_REFUSED' : 'FG_ERR_MQTT_UNAVAILABLE', text, { permanent: PERMANENT_PUBACK.has(reasonCode), reasonCode })
}
