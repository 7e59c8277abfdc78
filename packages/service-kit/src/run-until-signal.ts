import type { Logger } from 'pino'

/** Where the signals come from: the process, or a stand-in in tests (emitting a real SIGTERM would stop the runner). */
type SignalSource = Pick<NodeJS.Process, 'once'>

/** Keeps a service running until SIGINT or SIGTERM, then closes it cleanly; resolves to the exit code (0). */
export async function runUntilSignal (service: { close: () => Promise<void> }, log: Pick<Logger, 'info'>, signals: SignalSource = process): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    // Both stay registered: a second signal while closing is swallowed rather than killing the process mid-drain.
    signals.once('SIGINT', resolve)
    signals.once('SIGTERM', resolve)
  })
  log.info({ signal }, 'shutting down')
  await service.close()
  log.info('stopped')
  return 0
}
