import { mkdir } from 'node:fs/promises'
import type { Logger } from 'pino'
import { openStore, loadSecretKey, openSecret, type Store } from '@flowgate/store'
import { cleanupStack, serviceHttpApp, listeningPort, probes } from '@flowgate/service-kit'
import { startEgress } from './runtime.js'
import { createFlowFactories } from './wiring.js'
import { createDataflowMetrics } from './metrics.js'
import { createRemoteTranslator } from './remote-translator.js'
import { adminApiStore } from './admin-api-store.js'
import { ingressView } from './ingress-view.js'
import { storeReader } from './store-reader.js'
import type { ResourceReader } from './endpoint-secrets.js'
import type { EgressOptions } from './options.js'

/** Where the split egress reads its resources: the shared store, or (read-only, no Secret values) the admin API. */
export type EgressResources =
  | { store: string, dataDir: string }
  | { adminUrl: string, token?: string }

export interface StandaloneEgressOptions {
  resources: EgressResources
  /** The ingress as `host:port` (the `default` endpoint's host here); `mqtt` is how it was given, for the log. */
  ingressHost: string
  mqtt: string
  /** The translator service; absent: translation in process. */
  translatorUrl?: string
  instanceId: number
  /** Subscribe through the dataflow's share group even with one instance. */
  shared: boolean
  /** MQTT client id stem (the session is per client id, so replicas need different ones). */
  clientIdPrefix?: string
  host: string
  httpPort: number
  buffer: Partial<Pick<EgressOptions, 'bufferMessages' | 'bufferBytes'>>
  logger: Logger
}

export interface StandaloneEgress {
  readonly http: { host: string, port: number }
  close: () => Promise<void>
}

/**
 * The dataflow runtime alone (split deployment, `flowgate egress`): resources from the store, every MQTT source
 * reached over the network at the ingress, translation remote or in process, and /healthz, /readyz (ready once the
 * dataflows in the store at start were reconciled) and /metrics.
 */
export async function startStandaloneEgress (opts: StandaloneEgressOptions): Promise<StandaloneEgress> {
  const log = opts.logger
  const cleanup = cleanupStack(log)
  try {
    const { store, reader } = await openResources(opts.resources, log)
    cleanup.push(() => store.close())
    const remoteTranslator = opts.translatorUrl !== undefined ? createRemoteTranslator({ url: opts.translatorUrl }) : undefined
    if (remoteTranslator) cleanup.push(() => remoteTranslator.close())
    const metrics = createDataflowMetrics()
    const mqttSource = { shared: opts.shared, reader, ...(opts.clientIdPrefix !== undefined ? { clientIdPrefix: opts.clientIdPrefix } : {}) }
    const runtime = startEgress({
      store: ingressView(store, opts.ingressHost),
      // Nothing in process: every MQTT source is reached over the network (mqttSource).
      source: { setInterceptor () {} },
      // The reader resolves the MQTT source endpoint's Secret and trusted-CA ConfigMap, as for the publishers.
      factories: createFlowFactories(reader, { mqttSource, ...(remoteTranslator ? { remoteTranslator } : {}) }),
      logger: log,
      instanceId: opts.instanceId,
      // Replicas run the same dataflows: each writes its own part of a status, and readers sum their counters.
      statusWriter: `egress-${opts.instanceId}`,
      options: opts.buffer,
      metrics
    })
    cleanup.push(() => runtime.close())
    const app = serviceHttpApp(log)
    cleanup.push(() => app.close())
    let ready = false
    await app.register(probes, { ready: () => ready ? { status: 'ready', running: runtime.running() } : undefined, metrics: metrics.registry })
    await app.listen({ host: opts.host, port: opts.httpPort })
    await runtime.ready
    ready = true
    const http = { host: opts.host, port: listeningPort(app) }
    log.info({ mqtt: opts.mqtt, translator: opts.translatorUrl ?? 'in process', instanceId: opts.instanceId, http: `http://${http.host}:${http.port}` },
      `flowgate egress ${opts.instanceId} running, HTTP on ${http.host}:${http.port}`)
    return { http, close: cleanup.close }
  } catch (err) {
    await cleanup.close()
    throw err
  }
}

async function openResources (resources: EgressResources, log: Logger): Promise<{ store: Store, reader: ResourceReader }> {
  if ('store' in resources) {
    await mkdir(resources.dataDir, { recursive: true })
    const store = await openStore({ store: resources.store, dataDir: resources.dataDir })
    try {
      const key = await loadSecretKey({ dataDir: resources.dataDir, env: process.env })
      return { store, reader: storeReader(store, (stored) => openSecret(stored, key)) }
    } catch (err) {
      await store.close()
      throw err
    }
  }
  const store = adminApiStore(resources.adminUrl, resources.token, log)
  return { store, reader: storeReader(store) }
}
