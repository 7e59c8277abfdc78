export interface IngressOptions {
  /** Interface the MQTT listener binds to. */
  host: string
  /** TCP port of the MQTT listener; 0 picks a free one. */
  mqttPort: number
  /**
   * Whether devices must authenticate. Binding off loopback without it is refused, because an open broker on a
   * network hands every topic to anyone who can reach the port.
   */
  deviceAuthentication: boolean
}

export const ingressDefaults: IngressOptions = {
  host: '127.0.0.1',
  mqttPort: 1883,
  deviceAuthentication: false
}
