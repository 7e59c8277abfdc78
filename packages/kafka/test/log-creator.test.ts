import t from 'tap'
import { Writable } from 'node:stream'
import { logLevel } from 'kafkajs'
import { pino } from 'pino'
import { pinoLogCreator } from '../src/log-creator.js'

function capture (): { lines: Array<Record<string, unknown>>, log: ReturnType<ReturnType<typeof pinoLogCreator>> } {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done() } })
  return { lines, log: pinoLogCreator(pino({ level: 'debug' }, sink))(logLevel.DEBUG) }
}

t.test('an error response kafkajs retries is a warning; one it does not retry stays an error', async (t) => {
  const { lines, log } = capture()
  const entry = (error: string, namespace = 'Connection') => ({ namespace, level: logLevel.ERROR, label: 'ERROR', log: { timestamp: '', message: 'Response InitProducerId(key: 22, version: 1)', error } })
  log(entry("The coordinator is loading and hence can't process requests for this group"))
  log(entry('Not authorized to access topics: [Topic authorization failed]'))
  log(entry("The coordinator is loading and hence can't process requests for this group", 'Producer'))
  await new Promise((resolve) => setImmediate(resolve))
  t.same(lines.map((l) => [l.level, l.ns]), [[40, 'Connection'], [50, 'Connection'], [50, 'Producer']])
})

t.test('credentials and buffers kafkajs attaches are never logged', async (t) => {
  const { lines, log } = capture()
  log({ namespace: 'Connection', level: logLevel.INFO, label: 'INFO', log: { timestamp: '', message: 'connecting', sasl: { password: 'p' }, ssl: { key: 'k' }, broker: '127.0.0.1:9092' } as never })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(lines[0]?.broker, '127.0.0.1:9092')
  t.notOk('sasl' in lines[0]! || 'ssl' in lines[0]!)
})
