import { mqttClientOptions, mqttConfigError, subscribeOverNetwork, MqttEndpointError, type MqttClientSetup, type MqttEndpointSettings } from '@flowgate/mqtt'
import { resolveMqttSecrets } from './mqtt-destination.js'
import type { ResourceReader } from './endpoint-secrets.js'
import type { FlowFactories } from './flow-starters.js'
import type { ResolvedDataflow } from './resolve.js'
import { backoffDelay } from './backoff.js'
import { FG_ERR_MQTT_AUTH_FAILED, FG_ERR_SECRET_UNAVAILABLE } from './errors.js'

/**
 * `FlowFactories.mqttSource` over the network: an external broker, or the ingress in the split deployment. The
 * mqtt.js client is @flowgate/mqtt's `subscribeOverNetwork`; this file says what it connects to (the dataflow's
 * source endpoint, its filters, its share group) and with which session settings. The PUBACK for a QoS 1 message leaves only when `accept()`'s outcome settled (Kafka acknowledged, or
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
   * command hands the runtime the `default` endpoint with the ingress' host, see ingress-view.ts.)
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
    const clientId = `${options.clientIdPrefix}-${ctx.instanceId}-${dataflow.namespace}-${dataflow.name}`.slice(0, 200)
    const { settings, setup } = await sourceClientSetup(dataflow, clientId, options)
    const endpoint = `${dataflow.source.namespace}/${dataflow.source.name}`
    try {
      return await subscribeOverNetwork({
        setup,
        clientId,
        filters: subscriptionFilters(dataflow, options.shared),
        endpoint,
        keepAliveSeconds: settings.keepAliveSeconds ?? options.keepAliveSeconds,
        sessionExpirySeconds: settings.sessionExpirySeconds ?? options.sessionExpirySeconds,
        ...(settings.maxInflightMessages !== undefined ? { receiveMaximum: settings.maxInflightMessages } : {}),
        reconnectMinMs: options.reconnectMinMs,
        reconnectDelay: (attempt) => backoffDelay(attempt, options.reconnectMinMs, options.reconnectMaxMs),
        drainMs: options.drainMs,
        accept: (message) => ctx.accept(message),
        logger: ctx.logger
      })
    } catch (err) {
      // Refused credentials fail the start: the dataflow's status says why, and a change to the store (the Secret
      // fixed, on either side) starts it again.
      if (!(err instanceof MqttEndpointError) || err.code !== 'FG_ERR_MQTT_AUTH_FAILED') throw err
      const auth = settings.authentication?.method ?? 'Anonymous'
      const reason = err.cause instanceof Error ? err.cause.message : err.message
      throw FG_ERR_MQTT_AUTH_FAILED(`MQTT source ${setup.url} refused the connection (${auth} of endpoint ${endpoint}): ${reason}`)
    }
  }
}
