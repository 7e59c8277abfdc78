/** Every option of the all-in-one gateway with its default, in one place (DESIGN §5). */
export interface GatewayOptions {
  host: string
  httpPort: number
  mqttPort: number
  dataDir: string
  /** `file`, or a `postgres://` URL. */
  store: string
  instanceId: string
  logLevel: string
  /** Kafka broker names resolved to these addresses instead of DNS: `{ 'ns.servicebus.windows.net': '127.0.0.1' }`. */
  kafkaHostAliases: Record<string, string>
}

export const gatewayDefaults: GatewayOptions = {
  host: '127.0.0.1',
  httpPort: 8080,
  mqttPort: 1883,
  dataDir: './.flowgate',
  store: 'file',
  instanceId: '0',
  logLevel: 'info',
  kafkaHostAliases: {}
}
