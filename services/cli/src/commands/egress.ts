import { parseArgs } from 'node:util'
import { mkdir } from 'node:fs/promises'
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { pino, type Logger } from 'pino'
import { openStore, loadSecretKey, openSecret, type Store, type StoredResource, type WatchEvent } from '@flowgate/store'
import { startEgress, createFlowFactories, createDataflowMetrics, createRemoteTranslator, type ResourceReader } from '@flowgate/egress'
import { FG_ERR_CLI_USAGE } from '../errors.js'
import { flagOrEnv, portFlag } from '../flags.js'
import { runUntilSignal } from '../run-until-signal.js'
import { bufferFlagOptions, bufferFlags, bufferFlagsUsage } from '../buffer-flags.js'

export const egressUsage = `flowgate egress (--store postgres://…|--admin URL) --mqtt mqtt://ingress:1883 [--translator URL]
               [--instance-id 0] [--shared] [--client-id flowgate-egress] [--host 127.0.0.1] [--http-port 8083] [--data-dir ./.flowgate] [--log-level info]
               ${bufferFlagsUsage}
  Runs the dataflow runtime alone (split deployment): resources from the shared store (PostgreSQL; needs
  FLOWGATE_SECRET_KEY) or, read-only, from the admin API (--admin, with FLOWGATE_ADMIN_TOKEN; no Secret values,
  no status written back); the ingress reached as an MQTT v5 client; translation through the translator service
  (in process when --translator is absent). --client-id must differ between replicas (the MQTT session is
  per client id; default flowgate-egress-<instance-id>). /healthz, /readyz, /metrics on --http-port.
  --mqtt gives the ingress' address only (host:port): TLS (tls.mode, trustedCaCertificateConfigMapRef) and the
  credentials (authentication: UsernamePassword / X509Certificate Secret, ServiceAccountToken) are the 'default'
  DataflowEndpoint's, as for any MQTT endpoint; user info in --mqtt is refused.`

const KINDS = ['dataflowendpoints', 'dataflows', 'dataflowprofiles', 'configmaps'] as const

/**
 * A read-only Store over the admin REST API: list = one GET per kind, watch = a poll that diffs resource versions.
 * For a single host without PostgreSQL (the file store has one writer: the admin). Secret values never leave the
 * admin API, so endpoints that need them fail with FG_ERR_SECRET_UNAVAILABLE in this mode.
 */
export function adminApiStore (server: string, token: string | undefined, log: Logger, pollMs = 1000): Store {
  const base = server.replace(/\/+$/, '')
  async function all (): Promise<StoredResource[]> {
    const lists = await Promise.all(KINDS.map(async (kind) => {
      const res = await fetch(`${base}/api/v1/${kind}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
      if (!res.ok) throw Object.assign(new Error(`admin API answered ${res.status} for ${kind}`), { code: 'FG_ERR_ADMIN_UNAVAILABLE' })
      return ((await res.json()) as { items: StoredResource[] }).items
    }))
    return lists.flat()
  }
  const keyOf = (r: StoredResource): string => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`
  const readOnly = async (): Promise<never> => { throw Object.assign(new Error('the admin API store is read-only'), { code: 'FG_ERR_STORE_READ_ONLY' }) }
  return {
    async get (key) { return (await all()).find((r) => r.kind === key.kind && r.metadata.namespace === key.namespace && r.metadata.name === key.name) },
    async list () { return { items: await all(), resourceVersion: '0' } },
    put: readOnly,
    putAll: readOnly,
    delete: readOnly,
    // The admin API has no status route: dataflow status stays with the admin's own view.
    async setStatus () {},
    async * watch (opts = {}) {
      let seen = new Map((await all()).map((r) => [keyOf(r), r]))
      while (opts.signal?.aborted !== true) {
        await new Promise((resolve) => setTimeout(resolve, pollMs))
        let now: Map<string, StoredResource>
        try { now = new Map((await all()).map((r) => [keyOf(r), r])) } catch (err) { log.warn({ err: (err as Error).message }, 'admin API poll failed'); continue }
        const events: WatchEvent[] = []
        for (const [k, r] of now) {
          const before = seen.get(k)
          if (before === undefined) events.push({ type: 'ADDED', object: r })
          else if (before.metadata.resourceVersion !== r.metadata.resourceVersion) events.push({ type: 'MODIFIED', object: r })
        }
        for (const [k, r] of seen) if (!now.has(k)) events.push({ type: 'DELETED', object: r })
        seen = now
        yield * events
      }
    },
    async close () {}
  }
}

export async function egress (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      admin: { type: 'string' },
      token: { type: 'string' },
      mqtt: { type: 'string' },
      translator: { type: 'string' },
      'instance-id': { type: 'string' },
      shared: { type: 'boolean' },
      'client-id': { type: 'string' },
      host: { type: 'string' },
      'http-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string' },
      ...bufferFlagOptions
    },
    strict: true
  })
  const log = pino({ level: flagOrEnv(values, 'log-level') ?? 'info', base: { service: 'egress' } })
  const storeUrl = flagOrEnv(values, 'store')
  const adminUrl = flagOrEnv(values, 'admin')
  const mqtt = flagOrEnv(values, 'mqtt')
  if ((storeUrl === undefined) === (adminUrl === undefined)) throw FG_ERR_CLI_USAGE('flowgate egress needs one of --store (postgres://…) or --admin URL')
  if (mqtt === undefined) throw FG_ERR_CLI_USAGE('flowgate egress needs --mqtt mqtt://<ingress>:<port>')
  const ingressHost = ingressHostOf(mqtt)
  const instanceId = Number(flagOrEnv(values, 'instance-id') ?? 0)
  const dataDir = flagOrEnv(values, 'data-dir') ?? './.flowgate'
  const cleanup: Array<() => Promise<unknown>> = []
  const closeAll = async (): Promise<void> => { for (const c of cleanup.splice(0).reverse()) await c().catch((err: Error) => log.warn({ err: err.message }, 'error while closing')) }
  try {
    let store: Store
    let reader: ResourceReader
    if (storeUrl !== undefined) {
      await mkdir(dataDir, { recursive: true })
      store = await openStore({ store: storeUrl, dataDir })
      const key = await loadSecretKey({ dataDir, env: process.env })
      reader = {
        async secret (namespace, name) {
          const stored = await store.get({ kind: 'Secret', namespace, name })
          if (!stored) throw Object.assign(new Error(`Secret ${namespace}/${name} not found`), { code: 'FG_ERR_SECRET_MISSING' })
          const data = (openSecret(stored, key).data ?? {}) as Record<string, string>
          return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64')]))
        },
        configMap: configMapReader(() => store)
      }
    } else {
      const token = (typeof values.token === 'string' ? values.token : undefined) ?? process.env.FLOWGATE_ADMIN_TOKEN
      store = adminApiStore(adminUrl!, token, log)
      reader = {
        async secret (namespace, name) { throw Object.assign(new Error(`Secret ${namespace}/${name}: values are not served by the admin API; run the egress with --store`), { code: 'FG_ERR_SECRET_UNAVAILABLE' }) },
        configMap: configMapReader(() => store)
      }
    }
    cleanup.push(() => store.close())
    const translatorUrl = flagOrEnv(values, 'translator')
    const remoteTranslator = translatorUrl !== undefined ? createRemoteTranslator({ url: translatorUrl }) : undefined
    if (remoteTranslator) cleanup.push(() => remoteTranslator.close())
    const metrics = createDataflowMetrics()
    const runtime = startEgress({
      store: ingressView(store, ingressHost),
      // Nothing in process: every MQTT source is reached over the network (mqttSource).
      source: { setInterceptor () {} },
      // The reader resolves the MQTT source endpoint's Secret and trusted-CA ConfigMap, as for the publishers.
      factories: createFlowFactories(reader, { mqttSource: { shared: values.shared === true, reader, ...clientIdOf(values) }, ...(remoteTranslator ? { remoteTranslator } : {}) }),
      logger: log,
      instanceId,
      options: bufferFlags(values),
      metrics
    })
    cleanup.push(() => runtime.close())
    const host = flagOrEnv(values, 'host') ?? '127.0.0.1'
    const app = Fastify({ loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) })
    cleanup.push(() => app.close())
    let ready = false
    app.get('/healthz', async () => ({ status: 'ok' }))
    app.get('/readyz', async (_req, reply) => ready ? { status: 'ready', running: runtime.running() } : reply.code(503).send({ status: 'starting' }))
    app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()))
    await app.listen({ host, port: portFlag(values, 'http-port') ?? 8083 })
    await runtime.ready
    ready = true
    const { port } = app.server.address() as { port: number }
    log.info({ mqtt, translator: translatorUrl ?? 'in process', instanceId, http: `http://${host}:${port}` }, `flowgate egress ${instanceId} running, HTTP on ${host}:${port}`)
    return await runUntilSignal({ close: closeAll }, log)
  } catch (err) {
    await closeAll()
    throw err
  }
}

const BUILTIN = 'flowgate.dev/builtin'

/**
 * `--mqtt` → the ingress' `host:port`. Only the address comes from the flag: one endpoint resource says how to
 * connect (TLS, CA, credentials), for the source as for the publishers, and its Secret is where a password belongs
 * (a flag or URL shows in `ps` and in the Deployment). User info is refused rather than silently dropped.
 */
export function ingressHostOf (mqtt: string): string {
  let url: URL
  try { url = new URL(mqtt) } catch { throw FG_ERR_CLI_USAGE(`--mqtt ${JSON.stringify(mqtt)} is not a URL (mqtt://<ingress>:<port>)`) }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw FG_ERR_CLI_USAGE(`--mqtt must be mqtt://… or mqtts://… (got ${url.protocol}); TLS follows the \`default\` endpoint's tls.mode`)
  if (url.username !== '' || url.password !== '') {
    throw FG_ERR_CLI_USAGE('--mqtt takes no user name or password: give them to the `default` DataflowEndpoint (authentication: UsernamePassword with a Secret holding username and password)')
  }
  if (url.port === '') throw FG_ERR_CLI_USAGE(`--mqtt ${JSON.stringify(mqtt)} needs a port (mqtt://<ingress>:<port>)`)
  return url.host
}

/**
 * The split deployment's view of the store: the built-in `default` MQTT endpoint means "Flowgate's own broker",
 * which here is the ingress at --mqtt, reached over the network — so that endpoint is handed to the runtime as a
 * plain MQTT endpoint at the ingress' address (the runtime would otherwise look for the broker in process).
 */
export function ingressView (store: Store, ingressHost: string): Store {
  const map = (r: StoredResource): StoredResource => {
    if (r.kind !== 'DataflowEndpoint' || r.metadata.annotations?.[BUILTIN] !== 'true') return r
    const { [BUILTIN]: _builtin, ...annotations } = r.metadata.annotations
    const spec = r.spec as { mqttSettings?: Record<string, unknown> }
    return { ...r, metadata: { ...r.metadata, annotations }, spec: { ...spec, mqttSettings: { ...spec.mqttSettings, host: ingressHost } } }
  }
  // Delegation spelled out: a store may be a class instance, whose methods a spread would not copy.
  return {
    put: (resource, options) => store.put(resource, options),
    putAll: (items) => store.putAll(items),
    delete: (key, options) => store.delete(key, options),
    setStatus: (key, status) => store.setStatus(key, status),
    close: () => store.close(),
    get: async (key) => { const r = await store.get(key); return r && map(r) },
    list: async (filter) => { const l = await store.list(filter); return { ...l, items: l.items.map(map) } },
    async * watch (opts) { for await (const e of store.watch(opts)) yield { ...e, object: map(e.object) } }
  }
}

function clientIdOf (values: Record<string, unknown>): { clientIdPrefix?: string } {
  const id = flagOrEnv(values, 'client-id')
  return id !== undefined ? { clientIdPrefix: id } : {}
}

function configMapReader (store: () => Store): ResourceReader['configMap'] {
  return async (namespace, name) => {
    const stored = await store().get({ kind: 'ConfigMap', namespace, name })
    if (!stored) throw Object.assign(new Error(`ConfigMap ${namespace}/${name} not found`), { code: 'FG_ERR_CONFIGMAP_MISSING' })
    return (stored.data ?? {}) as Record<string, string>
  }
}
