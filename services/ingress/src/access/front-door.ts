import type { Logger } from 'pino'
import type { AccessSource } from './source.js'
import { resolvePorts, type ListenerProblem, type ResolvedPort, type ResolveOptions } from './resolve.js'
import { needsRebind, startPortServer, type HandleConnection, type PortServer } from './port-server.js'
import type { AccessMetrics } from './metrics.js'

export interface FrontDoorOptions extends Omit<ResolveOptions, 'log'> {
  source: AccessSource
  log: Logger
  handle: HandleConnection
  metrics: AccessMetrics
  /** A port's authentication or authorization changed under connected devices. */
  recheck: (port: PortServer) => Promise<void>
  /** How often ports that could not open (a Secret missing, the port in use) are tried again. */
  retryMs?: number
}

export interface FrontDoor {
  /** Resolves once the stored listeners were read and their ports opened (or reported as failed). */
  readonly ready: Promise<void>
  ports: () => PortServer[]
  close: () => Promise<void>
}

/**
 * The device front door: serves the ports the stored BrokerListeners describe, and follows every change to them
 * and to what they reference — a new port opens, a removed one closes, a rotated certificate or CA is swapped into
 * the running TLS server, a changed user list or rule set re-checks the devices already connected.
 */
export function startFrontDoor (opts: FrontDoorOptions): FrontDoor {
  const { source, log } = opts
  const servers = new Map<number, PortServer>()
  const cache = new Map()
  const abort = new AbortController()
  const announcedCas = new Set<string>()
  let running: Promise<void> = Promise.resolve()
  let again = false
  let retryTimer: NodeJS.Timeout | undefined

  async function reconcile (): Promise<void> {
    const { items } = await source.list()
    const resolution = await resolvePorts(items, source, { ...opts, log }, cache)
    const problems = [...resolution.problems]
    const wanted = new Map(resolution.ports.map((p) => [p.port, p]))
    for (const [port, server] of servers) {
      if (!wanted.has(port)) { servers.delete(port); await server.close(); log.info({ listener: server.config.id }, 'listener port closed') }
    }
    for (const config of resolution.ports) {
      const server = servers.get(config.port)
      if (server !== undefined && server.config.id === config.id && !needsRebind(server.config, config)) {
        const before = server.config
        server.update(config)
        if (before.authentication?.fingerprint !== config.authentication?.fingerprint || before.authorization?.fingerprint !== config.authorization?.fingerprint) {
          await opts.recheck(server)
        }
        continue
      }
      if (server !== undefined) { servers.delete(config.port); await server.close() }
      try {
        const started = await startPortServer(config, opts.handle)
        servers.set(config.port, started)
        log.info({ listener: config.id, bound: started.bound, protocol: config.protocol, tls: config.tls?.mode ?? 'None', authentication: config.authentication?.name, authorization: config.authorization?.name }, `listener port open on ${started.bound}`)
      } catch (err) {
        const e = err as NodeJS.ErrnoException
        problems.push({ listener: `${config.listener.namespace}/${config.listener.name}`, port: config.port, message: e.code === 'EADDRINUSE' ? `port ${config.port} is in use by another program` : e.message })
      }
    }
    for (const config of resolution.ports) {
      const ca = config.tls?.caCertificate
      if (ca !== undefined && !announcedCas.has(ca)) {
        announcedCas.add(ca)
        log.info({ listener: config.id, caCertificate: ca }, `listener ${config.id} serves a certificate from Flowgate's own CA (tls Automatic): give devices this CA, also in the listener's status.ports[].caCertificate`)
      }
    }
    opts.metrics.portsOpen.set(servers.size)
    await writeStatuses(items.filter((r) => r.kind === 'BrokerListener').map((r) => ({ namespace: r.metadata.namespace, name: r.metadata.name })), resolution.ports, problems)
    clearTimeout(retryTimer)
    if (problems.length > 0) {
      for (const p of problems) log.warn({ listener: p.listener, port: p.port }, `listener port not served: ${p.message}`)
      retryTimer = setTimeout(schedule, opts.retryMs ?? 10_000)
      retryTimer.unref()
    }
  }

  async function writeStatuses (listeners: Array<{ namespace: string, name: string }>, ports: ResolvedPort[], problems: ListenerProblem[]): Promise<void> {
    for (const l of listeners) {
      const label = `${l.namespace}/${l.name}`
      const mine = ports.filter((p) => p.listener.namespace === l.namespace && p.listener.name === l.name)
      const failed = problems.filter((p) => p.listener === label)
      const status = {
        conditions: [{
          type: 'Ready',
          status: failed.length === 0 ? 'True' : 'False',
          reason: failed.length === 0 ? 'PortsServed' : 'PortsNotServed',
          message: failed.length === 0 ? `${mine.length} port(s) served` : failed.map((f) => `port ${f.port ?? '?'}: ${f.message}`).join('; '),
          lastTransitionTime: new Date().toISOString()
        }],
        ports: [
          ...mine.map((p) => ({
            port: p.port,
            protocol: p.protocol,
            bound: servers.get(p.port)?.config.id === p.id ? servers.get(p.port)!.bound : null,
            tls: p.tls?.mode ?? 'None',
            authentication: p.authentication?.name ?? null,
            authorization: p.authorization?.name ?? null,
            ...(p.tls?.caCertificate !== undefined ? { caCertificate: p.tls.caCertificate } : {}),
            notes: p.notes
          })),
          ...failed.filter((f) => !mine.some((p) => p.port === f.port)).map((f) => ({ port: f.port, bound: null, error: f.message, notes: [] }))
        ]
      }
      await source.setStatus('BrokerListener', l.namespace, l.name, status).catch((err: Error) => log.warn({ err: err.message, listener: label }, 'could not write listener status'))
    }
  }

  /** Reconciles are serialised; changes that arrive meanwhile fold into one more run. */
  function schedule (): Promise<void> {
    if (again) return running
    again = true
    running = running.then(async () => {
      again = false
      await reconcile().catch((err: Error) => log.error({ err: err.message }, 'listener reconcile failed'))
    })
    return running
  }

  let resolveReady: () => void
  const ready = new Promise<void>((resolve) => { resolveReady = resolve })
  const follow = async (): Promise<void> => {
    for (;;) {
      try {
        const { resourceVersion } = await source.list()
        await schedule()
        resolveReady()
        for await (const _ of source.changes(resourceVersion, abort.signal)) void schedule()
        return
      } catch (err) {
        if (abort.signal.aborted) return
        log.warn({ err: (err as Error).message }, 'listener watch ended; following again in 1 s')
        resolveReady()
        await new Promise((resolve) => setTimeout(resolve, 1000).unref())
      }
    }
  }
  void follow()

  return {
    ready,
    ports: () => [...servers.values()],
    async close () {
      abort.abort()
      clearTimeout(retryTimer)
      await running
      await Promise.all([...servers.values()].map(async (s) => await s.close()))
      servers.clear()
      for (const entry of cache.values() as Iterable<{ value: { methods: Array<{ close?: () => Promise<void> }> } }>) for (const m of entry.value.methods) await m.close?.()
    }
  }
}
