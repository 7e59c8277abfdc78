import { mkdir } from 'node:fs/promises'
import type { Logger } from 'pino'
import { openStore, loadSecretKey, openSecret, sealSecret } from '@flowgate/store'
import { cleanupStack, serviceHttpApp, listeningPort, probes } from '@flowgate/service-kit'
import { startIngress } from './ingress.js'
import { storeAccessSource, type AccessSource } from './access/source.js'
import type { IngressOptions } from './options.js'

export interface StandaloneIngressOptions extends Pick<Partial<IngressOptions>, 'wsPort' | 'ackAfterSharedDelivery' | 'sharedSubscriptions' | 'persistence' | 'allowAnonymous' | 'limits' | 'networkHost'> {
  host: string
  mqttPort: number
  httpPort: number
  /** The shared store, for the stored BrokerListeners (TLS, device authentication and authorization) and their changes. */
  store?: { url: string, dataDir: string }
  logger: Logger
}

export interface StandaloneIngress {
  readonly mqtt: { host: string, port: number }
  readonly http: { host: string, port: number }
  close: () => Promise<void>
}

/**
 * The embedded broker alone (split deployment, `flowgate ingress`) with its probes: /healthz, /readyz (ready once
 * the stored BrokerListeners were read, with the broker's client count) and /metrics (the broker's counters:
 * refusals, share-group drops as flowgate_share_group_dropped_total{group,reason}, …).
 */
export async function startStandaloneIngress (opts: StandaloneIngressOptions): Promise<StandaloneIngress> {
  const { logger: log, host } = opts
  const cleanup = cleanupStack(log)
  try {
    let access: AccessSource | undefined
    if (opts.store !== undefined) {
      await mkdir(opts.store.dataDir, { recursive: true })
      const store = await openStore({ store: opts.store.url, dataDir: opts.store.dataDir })
      cleanup.push(() => store.close())
      const key = await loadSecretKey({ dataDir: opts.store.dataDir, env: process.env })
      access = storeAccessSource(store, { open: (s) => openSecret(s, key), seal: (s) => sealSecret(s, key) })
    }
    const broker = await startIngress({
      host,
      ...(opts.persistence !== undefined ? { persistence: opts.persistence } : {}),
      mqttPort: opts.mqttPort,
      ...(opts.wsPort !== undefined ? { wsPort: opts.wsPort } : {}),
      ...(opts.ackAfterSharedDelivery !== undefined ? { ackAfterSharedDelivery: opts.ackAfterSharedDelivery } : {}),
      ...(opts.sharedSubscriptions !== undefined ? { sharedSubscriptions: opts.sharedSubscriptions } : {}),
      logger: log,
      ...(access !== undefined ? { access } : {}),
      ...(opts.allowAnonymous !== undefined ? { allowAnonymous: opts.allowAnonymous } : {}),
      ...(opts.limits !== undefined ? { limits: opts.limits } : {}),
      ...(opts.networkHost !== undefined ? { networkHost: opts.networkHost } : {})
    })
    cleanup.push(() => broker.close())
    const app = serviceHttpApp(log)
    cleanup.push(() => app.close())
    // Anonymous devices off loopback are a choice someone made at start: a probe or an operator sees it here.
    const warnings = broker.anonymousOffLoopback ? ['allow-anonymous: devices connect without authentication off loopback'] : []
    let listenersRead = false
    void broker.frontDoor?.ready.then(() => { listenersRead = true })
    await app.register(probes, {
      ready: () => broker.frontDoor !== undefined && !listenersRead
        ? undefined
        : { status: 'ready', clients: broker.broker.connectedClients, ...(warnings.length > 0 ? { warnings } : {}) },
      metrics: broker.metricsRegistry
    })
    await app.listen({ host, port: opts.httpPort })
    const http = { host, port: listeningPort(app) }
    log.info({ mqtt: `mqtt://${broker.mqtt.host}:${broker.mqtt.port}`, http: `http://${http.host}:${http.port}` },
      `flowgate ingress listening: MQTT on ${broker.mqtt.host}:${broker.mqtt.port}, HTTP on ${http.host}:${http.port}`)
    return { mqtt: broker.mqtt, http, close: cleanup.close }
  } catch (err) {
    await cleanup.close()
    throw err
  }
}
