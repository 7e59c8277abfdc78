import type { Logger } from 'pino'

/**
 * What a service opened, closed in reverse on the way out: a service starts its parts one after another (store,
 * broker, runtime, HTTP), and whatever comes later depends on what came earlier. A part that fails to close is
 * logged and the rest still close. Closing twice closes once; the second caller waits for the first.
 */
export interface CleanupStack {
  /** Registers what closes a part just opened. */
  push: (close: () => unknown) => void
  close: () => Promise<void>
}

export function cleanupStack (log: Pick<Logger, 'warn'>): CleanupStack {
  const closers: Array<() => unknown> = []
  let closing: Promise<void> | undefined
  async function closeAll (): Promise<void> {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close()
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'error while closing')
      }
    }
  }
  return {
    push: (close) => { closers.push(close) },
    close: () => (closing ??= closeAll())
  }
}
