import { pino, type Logger } from 'pino'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { lookup as dnsLookup } from 'node:dns'
import { staticLookup } from '@flowgate/kafka'
import type { EmbeddedBroker } from '@flowgate/mqtt'
import { startIngress, storeAccessSource } from '@flowgate/ingress'
import { translatorRoutes } from '@flowgate/translator'
import { adminPlugin, openAdminState, createTailHub, tailObserver } from '@flowgate/admin'
import { openStore } from '@flowgate/store'
import { cleanupStack, serviceHttpApp, listeningPort, probes } from '@flowgate/service-kit'
import { startEgress, createFlowFactories, createDataflowMetrics, type ResourceReader } from '@flowgate/egress'
import { gatewayDefaults, type GatewayOptions } from './options.js'
import { FG_ERR_CONFIGMAP_MISSING, FG_ERR_SECRET_MISSING } from './errors.js'
import { workerIndex, workerShare } from './workers.js'
import { workerTailHub } from './worker-tail.js'
import { workerMetrics } from './worker-metrics.js'

export interface Gateway {
  readonly http: { host: string, port: number }
  readonly mqtt: { host: string, port: number }
  readonly log: Logger
  /** The admin API's bearer token. */
  readonly token: string
  close: () => Promise<void>
}

/** Starts admin, ingress, translator and egress in one process: what `flowgate start` runs. */
export async function startGateway (opts: Partial<GatewayOptions> & { logger?: Logger } = {}): Promise<Gateway> {
  const options: GatewayOptions = { ...gatewayDefaults, ...stripUndefined(opts) }
  const log = opts.logger ?? pino({ level: options.logLevel, base: { service: 'gateway' } })
  const cleanup = cleanupStack(log)

  try {
    await mkdir(options.dataDir, { recursive: true })
    const store = await openStore({ store: options.store, dataDir: options.dataDir })
    cleanup.push(() => store.close())
    const metrics = createDataflowMetrics()
    const ingress = await startIngress({
      host: options.host,
      mqttPort: options.mqttPort,
      logger: log.child({ component: 'ingress' }),
      allowAnonymous: options.allowAnonymous,
      ...(options.networkHost !== undefined ? { networkHost: options.networkHost } : {}),
      limits: options.limits,
      metricsRegistry: metrics.registry,
      holdConnections: true,
      // Persistent sessions, their queues and retained messages survive a restart (and SIGKILL); in Redis, shared
      // with the other gateway processes on it, live messages included.
      ...(options.persistenceUrl !== undefined
        ? { persistence: { kind: 'redis' as const, url: options.persistenceUrl }, sharedEmitterUrl: options.persistenceUrl }
        : { persistence: { kind: 'dir' as const, dir: join(options.dataDir, 'broker') } })
    })
    cleanup.push(() => ingress.close())
    const admin = await openAdminState({ dataDir: options.dataDir, store, logger: log.child({ component: 'admin' }), mqttHost: `localhost:${ingress.mqtt.port}` })

    const reader: ResourceReader = {
      async secret (namespace, name) {
        const stored = await store.get({ kind: 'Secret', namespace, name })
        if (!stored) throw FG_ERR_SECRET_MISSING(namespace, name)
        const data = (admin.cipher.open(stored).data ?? {}) as Record<string, string>
        return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]))
      },
      async configMap (namespace, name) {
        const stored = await store.get({ kind: 'ConfigMap', namespace, name })
        if (!stored) throw FG_ERR_CONFIGMAP_MISSING(namespace, name)
        return (stored.data ?? {}) as Record<string, string>
      }
    }
    // The live tail (GET /api/v1/tail): the egress reports what Kafka acknowledged, the admin API serves readers.
    const tail = workerIndex() !== undefined ? workerTailHub() : createTailHub()
    const egress = startEgress({
      store,
      source: ingress,
      factories: createFlowFactories(reader, {
        embeddedBroker: ingress.broker as unknown as EmbeddedBroker,
        ...(workerShare() !== undefined ? { instanceShare: workerShare() } : {}),
        ...(Object.keys(options.kafkaHostAliases).length > 0 ? { lookup: staticLookup(options.kafkaHostAliases, dnsLookup) } : {})
      }),
      logger: log.child({ component: 'egress' }),
      instanceId: Number(options.instanceId) || 0,
      // Each worker runs every dataflow and counts its own devices' messages: each writes its part of the statuses.
      ...(workerIndex() !== undefined ? { statusWriter: `worker-${workerIndex()}` } : {}),
      options: options.dataflowBuffer,
      observer: tailObserver(tail),
      metrics,
      embeddedMqttHosts: ['localhost', '127.0.0.1', '[::1]'].map((h) => `${h}:${ingress.mqtt.port}`)
    })
    cleanup.push(() => egress.close({ shutdown: true }))

    const app = serviceHttpApp(log)
    cleanup.push(() => app.close())
    // Closed in reverse: publishes are held first (unacknowledged from here on), then the flows drain into Kafka,
    // then the broker disconnects the devices — which resend whatever was not acknowledged to the next process.
    cleanup.push(async () => { ingress.holdPublishes() })
    let ready = false
    // Anonymous devices off loopback are a choice someone made at start: a probe or an operator sees it here.
    const warnings = ingress.anonymousOffLoopback ? ['allow-anonymous: devices connect without authentication off loopback'] : []
    await app.register(probes, { ready: () => ready ? { status: 'ready', ...(warnings.length > 0 ? { warnings } : {}) } : undefined, metrics: workerIndex() !== undefined ? workerMetrics(metrics.registry) : metrics.registry })
    // The stateless translator's HTTP API (DESIGN §4) on the same port: what the split egress calls, in one process.
    await app.register(translatorRoutes, {})
    await app.register(adminPlugin, { store, token: admin.token, cipher: admin.cipher, logger: log.child({ component: 'admin' }), tail })
    await app.listen({ host: options.host, port: options.httpPort })
    await egress.ready
    // Devices come in only now: the dataflows in the store run, so every publish finds its flow.
    ingress.open()
    // BrokerListener ports: the stored listeners, with their Secrets opened by the admin's cipher.
    await ingress.openFrontDoor(storeAccessSource(store, { open: (s) => admin.cipher.open(s), seal: (s) => admin.cipher.seal(s) })).ready
    ready = true

    const http = { host: options.host, port: listeningPort(app) }
    log.info({ mqtt: `mqtt://${ingress.mqtt.host}:${ingress.mqtt.port}`, http: `http://${http.host}:${http.port}`, dataDir: options.dataDir },
      `flowgate listening: MQTT on ${ingress.mqtt.host}:${ingress.mqtt.port}, HTTP on ${http.host}:${http.port}`)

    return { http, mqtt: ingress.mqtt, log, token: admin.token, close: cleanup.close }
  } catch (err) {
    await cleanup.close()
    throw err
  }
}

function stripUndefined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
