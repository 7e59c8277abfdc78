import type { DeviceAuth } from './device-auth.js'
import type { TlsListenerOptions } from './listeners.js'
import type { AccessSource } from './access/source.js'
import type { BrokerLimits } from './access/limits.js'
import type { Registry } from 'prom-client'
import type { SharedSubscriptionOptions } from './shared-subscriptions.js'
import type { BrokerPersistence } from './persistence.js'

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
  /**
   * The device front door: BrokerListener / BrokerAuthentication / BrokerAuthorization resources read (and followed)
   * from this source, each listener port served with its TLS, authentication and authorization.
   */
  access?: AccessSource
  /** Where listener ports with an authenticationRef bind: `::` is every interface, IPv4 and IPv6. */
  networkHost?: string
  /**
   * Serve without device authentication off loopback: the built-in listener on `host`, and listener ports without
   * an authenticationRef on every interface. Logged as a warning at start and shown in /readyz.
   */
  allowAnonymous?: boolean
  /** The broker's limits (access/limits.ts has the defaults and why). */
  limits?: Partial<BrokerLimits>
  /** Prometheus registry for the broker's counters (refusals by listener and reason). */
  metricsRegistry?: Registry
  /**
   * Bind the listeners but hold the connections unread until `ingress.open()`: the gateway opens once its dataflows
   * run, so no publish arrives before a flow can take it.
   */
  holdConnections?: boolean
  /** Bounds of MQTT 5 shared-subscription groups (shared-subscriptions.ts has the defaults). */
  sharedSubscriptions?: Partial<SharedSubscriptionOptions>
  /**
   * Where persistent sessions, their queued messages and retained messages are kept: in memory by default (lost on
   * restart), durably with `{ kind: 'dir', dir }` (a LevelDB in that directory, one broker process at a time).
   */
  persistence?: BrokerPersistence
  /**
   * Share the broker's message emitter through this Redis (shared-emitter.ts): several gateway processes then act as
   * one broker. Needs the Redis persistence too (sessions and retained messages must be shared as well).
   */
  sharedEmitterUrl?: string
}

export const ingressDefaults: IngressOptions = {
  host: '127.0.0.1',
  mqttPort: 1883
}
