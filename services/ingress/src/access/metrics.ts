import { Counter, Gauge, Registry } from 'prom-client'
import type { SharedSubscriptions } from '../shared-subscriptions.js'

/** What the front door counts: every refusal a device gets, by listener port and reason. */
export interface AccessMetrics {
  connectionsRefused: Counter<'listener' | 'reason'>
  publishesRefused: Counter<'listener' | 'reason'>
  subscriptionsRefused: Counter<'listener'>
  disconnected: Counter<'reason'>
  forwardsDropped: Counter<'reason'>
  receiveMaximumExceeded: Counter<never>
  pausedConnections: Gauge<never>
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
    pausedConnections: new Gauge({ name: 'flowgate_broker_connections_paused', help: 'Devices not read from because held publishes reached --max-held-bytes (Kafka slower than devices)', registers }),
    portsOpen: new Gauge({ name: 'flowgate_broker_listener_ports_open', help: 'BrokerListener ports being served', registers, aggregator: 'max' })
  }
}

/** The shared-subscription groups' drops and queue, read when scraped. */
export function registerSharedSubscriptionMetrics (registry: Registry | undefined, shared: SharedSubscriptions): void {
  const registers = registry === undefined ? [] : [registry]
  new Gauge({ name: 'flowgate_broker_shared_dropped_messages', help: 'Messages dropped from $share groups without members whose queue was full (total since start)', registers, collect () { this.set(shared.dropped) } })
  new Gauge({ name: 'flowgate_broker_shared_queued_bytes', help: 'Payload bytes waiting in $share groups without members', registers, collect () { this.set(shared.queuedBytes) } })
  new Gauge({ name: 'flowgate_broker_shared_groups_refused', help: 'SUBSCRIBEs refused because the broker holds its maximum of $share groups (total since start)', registers, collect () { this.set(shared.refusedGroups) } })
}
