/** An MQTT endpoint's `mqttSettings` after schema defaults (@flowgate/resources' mqttSettingsSchema). */
export interface MqttEndpointSettings {
  /** `host:port`. */
  host: string
  protocol?: 'Mqtt' | 'WebSockets'
  authentication?: MqttAuthentication
  tls?: { mode?: 'Enabled' | 'Disabled', trustedCaCertificateConfigMapRef?: string }
  clientIdPrefix?: string
  qos?: 0 | 1
  retain?: 'Keep' | 'Never'
  keepAliveSeconds?: number
  sessionExpirySeconds?: number
  maxInflightMessages?: number
}

export type MqttAuthentication =
  | { method: 'Anonymous', anonymousSettings?: Record<string, never> }
  | { method: 'UsernamePassword', usernamePasswordSettings: { secretRef: string } }
  | { method: 'X509Certificate', x509CertificateSettings: { secretRef: string } }
  | { method: 'ServiceAccountToken', serviceAccountTokenSettings: { audience: string } }
  | { method: 'SystemAssignedManagedIdentity', systemAssignedManagedIdentitySettings?: { audience?: string } }
  | { method: 'UserAssignedManagedIdentity', userAssignedManagedIdentitySettings?: { clientId?: string, tenantId?: string, scope?: string } }

/** What an endpoint's references resolved to (the Secret / ConfigMap contents); never logged. */
export interface MqttSecrets {
  usernamePassword?: { username: string, password: string }
  /** Client certificate (then its intermediates) and key, PEM. */
  tls?: { cert: string, key: string }
  /** PEM bundle of the trusted CAs; absent: Node's bundled roots. */
  trustedCa?: string
}

/**
 * An MQTT 5 publish as the destination sends it. `userProperties` in mqtt.js' shape (a repeated name holds an
 * array of its values); `payloadFormatIndicator` true means UTF-8.
 */
export interface OutboundPublish {
  topic: string
  payload: Uint8Array
  qos: 0 | 1
  retain: boolean
  properties?: {
    payloadFormatIndicator?: boolean
    messageExpiryInterval?: number
    contentType?: string
    responseTopic?: string
    correlationData?: Uint8Array
    userProperties?: Record<string, string | string[]>
  }
}

/** A connection that publishes to one MQTT endpoint. */
export interface MqttPublisher {
  /**
   * Resolves once the publish completed: PUBACK with a success reason code for QoS 1, written for QoS 0. Rejects with
   * an `MqttEndpointError` — `permanent` when the broker refused this message for good (retrying would fail again).
   */
  publish: (message: OutboundPublish) => Promise<void>
  /** False while the connection is down (publishes then fail at once with FG_ERR_MQTT_UNAVAILABLE). */
  readonly connected: boolean
  /** Publishes that may be outstanding at once (the endpoint's maxInflightMessages, capped by the broker's Receive Maximum). */
  readonly maxInflight: number
  close: () => Promise<void>
}
