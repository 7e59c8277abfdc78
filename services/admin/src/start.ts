import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import type { AddressInfo } from 'node:net'
import type { Store } from '@flowgate/store'
import { cleanupStack, serviceHttpApp, probes } from '@flowgate/service-kit'
import { adminDefaults } from './options.js'
import { adminPlugin } from './plugin.js'
import { openAdminState, type AdminStateOptions } from './state.js'

export interface StartAdminOptions extends AdminStateOptions {
  host?: string
  port?: number
}

export interface Admin {
  app: FastifyInstance
  url: string
  token: string
  /** The store the API writes to (the runtime's status hook, `setStatus`, writes here too). */
  store: Store
  close: () => Promise<void>
}

/** The admin API on its own (`flowgate admin`, and tests): state, plugin, probes, listening. */
export async function startAdmin (opts: StartAdminOptions): Promise<Admin> {
  const log = opts.logger ?? pino({ level: 'info', base: { service: 'admin' } })
  const state = await openAdminState({ ...opts, logger: log })
  const cleanup = cleanupStack(log)
  cleanup.push(() => state.close())
  const app = serviceHttpApp(log)
  cleanup.push(() => app.close())
  try {
    // Open, like the gateway's: ready as soon as it listens (the store was opened above).
    await app.register(probes, { ready: () => ({ status: 'ready' }) })
    await app.register(adminPlugin, { store: state.store, token: state.token, cipher: state.cipher, logger: log })
    await app.listen({ host: opts.host ?? adminDefaults.host, port: opts.port ?? adminDefaults.port })
  } catch (err) {
    await cleanup.close()
    throw err
  }
  const { address, port } = app.server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  return {
    app,
    url: `http://${host}:${port}`,
    token: state.token,
    store: state.store,
    close: cleanup.close
  }
}
