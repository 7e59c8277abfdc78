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
}

export const ingressDefaults: IngressOptions = {
  host: '127.0.0.1',
  mqttPort: 1883
}
