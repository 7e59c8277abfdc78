import type { Logger } from 'pino'

/** Keeps a service running until SIGINT or SIGTERM, then closes it cleanly. */
export async function runUntilSignal (service: { close: () => Promise<void> }, log: Pick<Logger, 'info'>): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  log.info({ signal }, 'shutting down')
  await service.close()
  log.info('stopped')
  return 0
}
