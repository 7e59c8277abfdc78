import type { DeviceAuth } from './device-auth.js'
import type { TlsListenerOptions } from './listeners.js'

export interface IngressOptions {
  /** Interface the MQTT listeners bind to. */
  host: string
  /** TCP port of the plain MQTT listener; 0 picks a free one. */
  mqttPort: number
  /** MQTT over TLS (PEM cert and key; with `clientCa`, client certificates are required). */
  tls?: TlsListenerOptions & { port: number }
  /** MQTT over WebSocket. */
  wsPort?: number
  /**
   * Device authentication. Binding off loopback without it is refused: an open broker on a network hands every
   * topic to anyone who can reach the port.
   */
  deviceAuth?: DeviceAuth
  /**
   * Split deployment: hold a device's QoS 1 PUBACK until a member of every matching shared subscription (the egress
   * instances) acknowledged the message — which they do only once Kafka has it. Without it the ingress acknowledges
   * on receipt. Ignored while an interceptor is set (all-in-one: the egress answers in process).
   */
  ackAfterSharedDelivery?: boolean
}

export const ingressDefaults: IngressOptions = {
  host: '127.0.0.1',
  mqttPort: 1883
}
