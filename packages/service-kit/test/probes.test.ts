import t from 'tap'
import { pino } from 'pino'
import { serviceHttpApp } from '../src/http-app.js'
import { probes } from '../src/probes.js'

const quiet = pino({ level: 'silent' })

t.test('/healthz answers at once; /readyz says starting (503) until the service is ready, then its body', async (t) => {
  const app = serviceHttpApp(quiet)
  t.teardown(() => app.close())
  let ready = false
  await app.register(probes, { ready: () => ready ? { status: 'ready', running: 2 } : undefined })
  t.same((await app.inject('/healthz')).json(), { status: 'ok' })
  const starting = await app.inject('/readyz')
  t.equal(starting.statusCode, 503)
  t.same(starting.json(), { status: 'starting' })
  ready = true
  const up = await app.inject('/readyz')
  t.equal(up.statusCode, 200)
  t.same(up.json(), { status: 'ready', running: 2 })
})

t.test('/metrics serves the registry in its content type', async (t) => {
  const app = serviceHttpApp(quiet)
  t.teardown(() => app.close())
  await app.register(probes, { metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => 'flowgate_up 1\n' } })
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  t.equal(res.body, 'flowgate_up 1\n')
})

t.test('without ready or metrics those routes are absent (a stateless service has /healthz only)', async (t) => {
  const app = serviceHttpApp(quiet)
  t.teardown(() => app.close())
  await app.register(probes, {})
  t.equal((await app.inject('/healthz')).statusCode, 200)
  t.equal((await app.inject('/readyz')).statusCode, 404)
  t.equal((await app.inject('/metrics')).statusCode, 404)
})

t.test('the app honours bodyLimit and does not log each request', async (t) => {
  const lines: string[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } })
  const app = serviceHttpApp(log, { bodyLimit: 10 })
  t.teardown(() => app.close())
  app.post('/echo', async (req) => req.body)
  await app.register(probes, {})
  t.equal((await app.inject({ method: 'POST', url: '/echo', payload: { much: 'more than ten bytes' } })).statusCode, 413)
  await app.inject('/healthz')
  t.notOk(lines.some((l) => l.includes('incoming request') || l.includes('request completed')), 'no line per request')
})
