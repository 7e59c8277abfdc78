import { mkdir } from 'node:fs/promises'
import type { Logger } from 'pino'
import { openStore } from '@flowgate/store'
import { cleanupStack } from '@flowgate/service-kit'
import { startAdmin } from './start.js'

export interface StandaloneAdminOptions {
  dataDir: string
  /** `file` (one admin: the file store has one writer) or a postgres:// URL shared by several replicas. */
  store: string
  host?: string
  port?: number
  /** The ingress as the `default` endpoint names it. */
  mqttHost?: string
  logger: Logger
}

/** The admin API alone (split deployment, `flowgate admin`): its store opened in dataDir, then startAdmin. */
export async function startStandaloneAdmin (opts: StandaloneAdminOptions): Promise<{ url: string, close: () => Promise<void> }> {
  const log = opts.logger
  await mkdir(opts.dataDir, { recursive: true })
  const store = await openStore({ store: opts.store, dataDir: opts.dataDir })
  const cleanup = cleanupStack(log)
  cleanup.push(() => store.close())
  try {
    const service = await startAdmin({ dataDir: opts.dataDir, store, logger: log, host: opts.host, port: opts.port, ...(opts.mqttHost !== undefined ? { mqttHost: opts.mqttHost } : {}) })
    cleanup.push(() => service.close())
    log.info({ url: service.url }, `flowgate admin listening on ${service.url}`)
    return { url: service.url, close: cleanup.close }
  } catch (err) {
    await cleanup.close()
    throw err
  }
}
