import { connect, type IClientOptions, type MqttClient, type Packet } from 'mqtt'
import type { Logger } from 'pino'
import { mqttClientOptions, mqttConfigError, type MqttClientSetup, type MqttEndpointSettings } from '@flowgate/mqtt'
import { resolveMqttSecrets } from './mqtt-destination.js'
import type { ResourceReader } from './endpoint-secrets.js'
import type { FlowFactories, MqttNetworkSource } from './flow-starters.js'
import type { ResolvedDataflow } from './resolve.js'
import type { InboundMqttMessage } from './ports.js'
import type { PublishOutcome } from './mqtt-to-kafka-flow.js'
import { backoffDelay } from './backoff.js'
import { FG_ERR_MQTT_AUTH_FAILED, FG_ERR_SECRET_UNAVAILABLE } from './errors.js'

/**
 * `FlowFactories.mqttSource` over the network with mqtt.js v5: an external broker, or the ingress in the split
 * deployment. The PUBACK for a QoS 1 message leaves only when `accept()`'s outcome settled (Kafka acknowledged, or
 * the message was dropped for good), in arrival order [MQTT-4.6.0-2] — so what the broker saw acknowledged is in
 * Kafka, and anything else is sent again (to this instance after a reconnect, or to another member of the share
 * group). A session that outlives the connection (`clean: false` + Session Expiry) keeps queued messages across an
 * egress restart.
 *
 * The connection is the endpoint's, built by @flowgate/mqtt's `mqttClientOptions` exactly as the Kafka → MQTT
 * publisher builds its own (mqtt-destination.ts): `tls.mode` and the trusted-CA ConfigMap, and the authentication
 * (`UsernamePassword` / `X509Certificate` from the endpoint's Secret, `ServiceAccountToken` as K8S-SAT). Only the
 * session differs: a subscriber keeps its session (`clean: false`). A broker that refuses the credentials on the
 * first connection fails the start (FG_ERR_MQTT_AUTH_FAILED, in the dataflow's status); later refusals are logged
 * as errors while mqtt.js keeps trying.
 */
export interface MqttNetworkSourceOptions {
  /**
   * A URL whose `host:port` replaces the endpoint's host; its scheme and any user info are not used: TLS and
   * authentication stay the endpoint's. (The split deployment's `--mqtt` works through the store instead: the egress
   * command hands the runtime the `default` endpoint with the ingress' host, see services/cli's `ingressView`.)
   */
  url?: string
  /** Reads the endpoint's Secret and trusted-CA ConfigMap; without it, an endpoint that names one fails to start. */
  reader?: ResourceReader
  /** ServiceAccountToken: reads the token for an audience (default: the mounted file, as for the publishers). */
  readServiceAccountToken?: (audience: string) => string
  /** Subscribe as `$share/flowgate-<namespace>-<dataflow>/<filter>` even with one instance (`--shared`). */
  shared: boolean
  /** Session Expiry Interval (s): how long the broker keeps this instance's session and queue while it is away. */
  sessionExpirySeconds: number
  keepAliveSeconds: number
  reconnectMinMs: number
  reconnectMaxMs: number
  /** Grace period on close for outcomes in flight, so their PUBACKs still leave. */
  drainMs: number
  /** Client id stem; the instance id and dataflow are appended (one session per instance and dataflow). */
  clientIdPrefix: string
}

export const mqttNetworkSourceDefaults: MqttNetworkSourceOptions = {
  shared: false,
  sessionExpirySeconds: 3600,
  keepAliveSeconds: 30,
  reconnectMinMs: 250,
  reconnectMaxMs: 10_000,
  drainMs: 5_000,
  clientIdPrefix: 'flowgate-egress'
}

interface HeldAck { messageId: number, settled: boolean, outcome: PublishOutcome, generation: number, send?: () => void }

/** The share group of a dataflow: every instance of it is one member, so each message reaches one instance. */
export function shareGroupOf (dataflow: { namespace: string, name: string }): string {
  return `flowgate-${dataflow.namespace}-${dataflow.name}`.replace(/[+#/]/g, '_')
}

/** The filters an instance subscribes to: through the share group when the profile runs several instances (or asked). */
export function subscriptionFilters (dataflow: ResolvedDataflow, shared: boolean): string[] {
  const group = shareGroupOf(dataflow)
  const share = shared || dataflow.instanceCount > 1
  return dataflow.source.dataSources.map((f) => share && !f.startsWith('$share/') ? `$share/${group}/${f}` : f)
}

/** CONNACK reason codes that mean "not with these credentials" (MQTT 5 §3.2.2.2): retrying the same ones is futile. */
const AUTH_REFUSED = new Set([0x86, 0x87, 0x8a, 0x8c])
const isAuthRefusal = (err: Error & { code?: unknown }): boolean => typeof err.code === 'number' && AUTH_REFUSED.has(err.code)

const noReader: ResourceReader = {
  async secret (namespace, name) { throw FG_ERR_SECRET_UNAVAILABLE(`Secret ${namespace}/${name}`) },
  async configMap (namespace, name) { throw FG_ERR_SECRET_UNAVAILABLE(`ConfigMap ${namespace}/${name}`) }
}

/** The source endpoint's settings (host replaced by `url`'s when given) and what its references resolve to. */
export async function sourceClientSetup (dataflow: ResolvedDataflow, clientId: string, opts: Pick<MqttNetworkSourceOptions, 'url' | 'reader' | 'readServiceAccountToken'> = {}): Promise<{ settings: MqttEndpointSettings, setup: MqttClientSetup }> {
  const endpoint = dataflow.source
  const stored = endpoint.spec.mqttSettings as MqttEndpointSettings | undefined
  const host = opts.url !== undefined ? new URL(opts.url).host : stored?.host
  if (!host) throw mqttConfigError(`endpoint ${endpoint.namespace}/${endpoint.name} has no mqttSettings.host`)
  const settings: MqttEndpointSettings = { ...stored, host }
  const secrets = await resolveMqttSecrets({ ...endpoint, spec: { ...endpoint.spec, mqttSettings: { ...settings } } }, opts.reader ?? noReader)
  return { settings, setup: mqttClientOptions(settings, secrets, { clientId, ...(opts.readServiceAccountToken ? { readServiceAccountToken: opts.readServiceAccountToken } : {}) }) }
}

export function createMqttNetworkSource (opts: Partial<MqttNetworkSourceOptions> = {}): NonNullable<FlowFactories['mqttSource']> {
  const options = { ...mqttNetworkSourceDefaults, ...opts }
  return async (dataflow, ctx) => {
    const log: Logger = ctx.logger
    const filters = subscriptionFilters(dataflow, options.shared)
    const clientId = `${options.clientIdPrefix}-${ctx.instanceId}-${dataflow.namespace}-${dataflow.name}`.slice(0, 200)
    const { settings, setup } = await sourceClientSetup(dataflow, clientId, options)
    const url = setup.url
    const held: HeldAck[] = []
    // Entries whose PUBACK mqtt.js has not produced yet, by packet identifier (a lookup per message: no scan).
    const awaiting = new Map<number, HeldAck>()
    let generation = 0
    let attempt = 0
    let closing = false

    // The endpoint's connection (TLS, credentials) as the publisher has it; the session is a subscriber's.
    const mqttOptions: IClientOptions = {
      ...setup.options,
      clientId,
      clean: false,
      keepalive: settings.keepAliveSeconds ?? options.keepAliveSeconds,
      reconnectPeriod: options.reconnectMinMs,
      connectTimeout: 10_000,
      // Subscribed on every connect below.
      resubscribe: false,
      // A token method connects once the first token is read (below).
      manualConnect: setup.refreshAuthentication !== undefined,
      properties: {
        ...setup.options.properties,
        // Says "an egress" to Flowgate's ingress, which then holds a device's PUBACK until this client acknowledged,
        // plain subscription or shared (services/ingress/src/shared-subscriptions.ts, EGRESS_ROLE). Any other
        // MQTT 5 broker ignores it.
        userProperties: { ...setup.options.properties?.userProperties, 'flowgate-role': 'egress' },
        sessionExpiryInterval: settings.sessionExpirySeconds ?? options.sessionExpirySeconds,
        ...(settings.maxInflightMessages !== undefined ? { receiveMaximum: settings.maxInflightMessages } : {})
      },
      customHandleAcks (topic, payload, packet, done) {
        // While closing, the message is not taken: no callback means mqtt.js reads no further and the broker keeps it.
        if (closing) return
        const message: InboundMqttMessage = {
          topic,
          payload,
          qos: packet.qos,
          retain: packet.retain ?? false,
          ...(packet.properties !== undefined ? { properties: packet.properties as Record<string, unknown> } : {}),
          receivedAt: Date.now()
        }
        const outcome = ctx.accept(message)
        if (packet.qos === 0 || packet.messageId === undefined) { done(0); return }
        const entry: HeldAck = { messageId: packet.messageId, settled: false, outcome: {}, generation }
        held.push(entry)
        awaiting.set(entry.messageId, entry)
        outcome.then((o) => { entry.outcome = o }, (err: Error) => { entry.outcome = { reasonCode: 0x80, reasonString: err.message } })
          .then(() => { entry.settled = true; flush() })
        // mqtt.js holds its reading until this callback: called now, so messages keep flowing while Kafka works;
        // the PUBACK it then writes is held by `sendPacket` below until the outcome settled.
        done(0)
      }
    }

    const client: MqttClient = connect(url, mqttOptions)
    // Tokens expire: one is read before the first connect and again whenever the connection closes, so each
    // reconnect (mqtt.js waits at least reconnectMinMs) carries a fresh one.
    const refresh = setup.refreshAuthentication
    const authenticate = async (): Promise<void> => {
      if (refresh === undefined) return
      try {
        const data = await refresh()
        client.options.properties = { ...client.options.properties, authenticationData: data }
      } catch (err) {
        log.error({ url, clientId, err: (err as Error).message }, 'MQTT source: no token for the endpoint\'s authentication')
      }
    }
    if (refresh !== undefined) void authenticate().then(() => { if (!closing) client.connect() })
    // mqtt.js writes the PUBACK right after customHandleAcks' callback and offers no hook in between; its
    // `_sendPacket` is where it does. Holding that one packet there keeps the reading pipelined (one callback per
    // message would cap a connection at one message per Kafka round trip).
    const internal = client as unknown as { _sendPacket: (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void }
    const sendPacket = internal._sendPacket.bind(client)
    internal._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback') {
        const entry = packet.messageId !== undefined ? awaiting.get(packet.messageId) : undefined
        if (entry !== undefined) {
          awaiting.delete(packet.messageId!)
          entry.send = () => {
            const o = entry.outcome
            if (o.reasonCode !== undefined && o.reasonCode >= 0x80) {
              (packet as { reasonCode?: number }).reasonCode = o.reasonCode
              if (o.reasonString !== undefined) (packet as { properties?: Record<string, unknown> }).properties = { reasonString: o.reasonString.slice(0, 200) }
            }
            sendPacket(packet)
          }
          cb?.()
          flush()
          return
        }
      }
      sendPacket(packet, cb, ...rest)
    }

    function flush (): void {
      while (held.length > 0 && held[0]!.settled && held[0]!.send !== undefined) {
        const entry = held.shift()!
        // A PUBACK belongs to the connection its PUBLISH came on; after a reconnect the broker sends it again.
        if (entry.generation !== generation || !client.connected) continue
        // Stopping (not a verdict on the message): leave it unacknowledged for another instance or the next start.
        if (entry.outcome.unacknowledged === true) continue
        entry.send!()
      }
      if (held.length === 0) for (const r of drained.splice(0)) r()
    }
    const drained: Array<() => void> = []

    client.on('connect', (connack) => {
      attempt = 0
      client.options.reconnectPeriod = options.reconnectMinMs
      log.info({ url, clientId, sessionPresent: connack.sessionPresent, filters }, 'connected to the MQTT source')
      // Every time, even with a session present: the dataflow's filters may have changed since the session began.
      // Retain Handling 1: retained messages only for a subscription that is new.
      client.subscribe(filters, { qos: 1, rh: 1 }, (err, granted) => {
        if (err) return log.error({ err: err.message }, 'subscribe failed')
        const refused = (granted ?? []).filter((g) => g.qos >= 0x80)
        if (refused.length > 0) log.error({ refused }, 'the MQTT source refused subscriptions')
      })
    })
    client.on('close', () => {
      generation++
      // Outcomes of the old connection's messages still settle (Kafka has them or will), but their PUBACKs are void:
      // the broker sends those messages again.
      held.length = 0
      awaiting.clear()
      for (const r of drained.splice(0)) r()
      if (closing) return
      client.options.reconnectPeriod = backoffDelay(attempt++, options.reconnectMinMs, options.reconnectMaxMs)
      void authenticate()
      log.warn({ url, retryInMs: client.options.reconnectPeriod }, 'MQTT source connection lost')
    })
    client.on('error', (err: Error & { code?: unknown }) => {
      // Refused credentials are an error someone has to fix (the endpoint's Secret, or the broker's side); the rest
      // (network, TLS) is what reconnecting is for.
      if (isAuthRefusal(err)) log.error({ url, clientId, code: err.code, err: err.message, endpoint: `${dataflow.source.namespace}/${dataflow.source.name}` }, 'the MQTT source refused this egress\' credentials')
      else log.warn({ url, err: err.message }, 'MQTT source error')
    })

    // The first connection is waited for briefly so a dataflow reports problems early; after that mqtt.js reconnects.
    // Refused credentials fail the start: the dataflow's status says why, and a change to the store (the Secret
    // fixed, on either side) starts it again.
    const refused = await new Promise<Error | undefined>((resolve) => {
      const done = (err?: Error): void => { clearTimeout(timer); client.off('connect', onConnect); client.off('error', onError); resolve(err) }
      const onConnect = (): void => done()
      const onError = (err: Error): void => { if (isAuthRefusal(err)) done(err) }
      const timer = setTimeout(done, 5_000)
      client.on('connect', onConnect)
      client.on('error', onError)
    })
    if (refused !== undefined) {
      closing = true
      await client.endAsync(true).catch(() => undefined)
      const auth = settings.authentication?.method ?? 'Anonymous'
      throw FG_ERR_MQTT_AUTH_FAILED(`MQTT source ${url} refused the connection (${auth} of endpoint ${dataflow.source.namespace}/${dataflow.source.name}): ${refused.message}`)
    }

    const source: MqttNetworkSource = {
      async close () {
        closing = true
        if (held.length > 0) {
          await Promise.race([new Promise<void>((resolve) => drained.push(resolve)), new Promise((resolve) => setTimeout(resolve, options.drainMs).unref())])
        }
        // No DISCONNECT with reason 0x04: the session (and its queue) stays for the next start.
        await client.endAsync(false).catch(() => undefined)
      }
    }
    return source
  }
}
