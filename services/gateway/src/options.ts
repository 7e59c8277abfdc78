import type { BrokerLimits } from '@flowgate/ingress'
import type { EgressOptions } from '@flowgate/egress'

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
  /** Devices may connect without authentication off loopback (the built-in listener on `host`, listener ports without authenticationRef). */
  allowAnonymous: boolean
  /** Where BrokerListener ports with authentication bind; default `::` (every interface, IPv4 and IPv6). */
  networkHost?: string
  /** The broker's limits; unset ones keep @flowgate/ingress' defaults. */
  limits: Partial<BrokerLimits>
  /**
   * `redis://…`: the broker's sessions, queues and retained messages in this Redis, and its live messages shared
   * through it, so that several gateway processes (`--workers`, or machines behind a TCP load balancer) are one
   * broker. Unset: a LevelDB in `<dataDir>/broker`, one process.
   */
  persistenceUrl?: string
  /** What each dataflow may hold while Kafka is slow or down; unset ones keep @flowgate/egress' defaults. */
  dataflowBuffer: Partial<Pick<EgressOptions, 'bufferMessages' | 'bufferBytes'>>
}

export const gatewayDefaults: GatewayOptions = {
  host: '127.0.0.1',
  httpPort: 8080,
  mqttPort: 1883,
  dataDir: './.flowgate',
  store: 'file',
  instanceId: '0',
  logLevel: 'info',
  kafkaHostAliases: {},
  allowAnonymous: false,
  limits: {},
  dataflowBuffer: {}
}
