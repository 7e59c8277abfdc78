import { Counter, Gauge, Registry } from 'prom-client'

/** What the front door counts: every refusal a device gets, by listener port and reason. */
export interface AccessMetrics {
  connectionsRefused: Counter<'listener' | 'reason'>
  publishesRefused: Counter<'listener' | 'reason'>
  subscriptionsRefused: Counter<'listener'>
  disconnected: Counter<'reason'>
  forwardsDropped: Counter<'reason'>
  receiveMaximumExceeded: Counter<never>
  portsOpen: Gauge<never>
}

export function createAccessMetrics (registry: Registry = new Registry()): AccessMetrics {
  const registers = [registry]
  return {
    connectionsRefused: new Counter({ name: 'flowgate_broker_connections_refused_total', help: 'CONNECTs refused, by listener port and reason', labelNames: ['listener', 'reason'], registers }),
    publishesRefused: new Counter({ name: 'flowgate_broker_publishes_refused_total', help: 'PUBLISHes refused by authorization (dropped, answered 0x87 to MQTT 5 devices)', labelNames: ['listener', 'reason'], registers }),
    subscriptionsRefused: new Counter({ name: 'flowgate_broker_subscriptions_refused_total', help: 'Subscriptions refused by authorization', labelNames: ['listener'], registers }),
    disconnected: new Counter({ name: 'flowgate_broker_disconnects_total', help: 'Devices the broker disconnected (credentials expired or revoked, limits)', labelNames: ['reason'], registers }),
    forwardsDropped: new Counter({ name: 'flowgate_broker_deliveries_dropped_total', help: 'Messages not delivered to a device (larger than its Maximum Packet Size)', labelNames: ['reason'], registers }),
    receiveMaximumExceeded: new Counter({ name: 'flowgate_broker_receive_maximum_exceeded_total', help: 'MQTT 5 devices disconnected for sending past the Receive Maximum (0x93)', registers }),
    portsOpen: new Gauge({ name: 'flowgate_broker_listener_ports_open', help: 'BrokerListener ports being served', registers })
  }
}
