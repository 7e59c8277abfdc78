import t from 'tap'
import { EventEmitter } from 'node:events'
import { runUntilSignal } from '../src/run-until-signal.js'

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal}: the service closes, the lines say so, and the exit code is 0`, async (t) => {
    const signals = new EventEmitter()
    const lines: unknown[] = []
    let closed = false
    const running = runUntilSignal({ close: async () => { closed = true } }, { info: (...args: unknown[]) => { lines.push(args) } } as never, signals as never)
    await new Promise((resolve) => setImmediate(resolve))
    t.notOk(closed, 'runs until a signal')
    signals.emit(signal, signal)
    t.equal(await running, 0)
    t.ok(closed)
    t.same(lines, [[{ signal }, 'shutting down'], ['stopped']])
  })
}
