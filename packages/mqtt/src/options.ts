/** Tunables of @flowgate/mqtt with their defaults (the endpoint resource carries the user-facing settings). */
export const mqttDefaults = {
  /** The seed-side defaults of mqttSettings (also applied by the schema; repeated for callers that skip it). */
  qos: 1 as 0 | 1,
  keepAliveSeconds: 60,
  sessionExpirySeconds: 3600,
  maxInflightMessages: 100,
  /** How long one QoS 1 publish may wait for its PUBACK before the caller treats it as failed (and may retry). */
  publishTimeoutMs: 15_000,
  /** mqtt.js: how long CONNECT may wait for CONNACK, and the pause between reconnect attempts. */
  connectTimeoutMs: 10_000,
  reconnectPeriodMs: 1_000,
  /** Where a Kubernetes service account token is mounted (ServiceAccountToken): `<dir>/<audience>`, AIO's layout. */
  serviceAccountTokenDir: '/var/run/secrets/tokens'
}
