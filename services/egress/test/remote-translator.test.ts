import t from 'tap'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { startTranslator } from '@flowgate/translator'
import { translateMqttMessage } from '@flowgate/translate'
import { createRemoteTranslator } from '../src/remote-translator.js'
import type { InboundMqttMessage } from '../src/ports.js'

const quiet = pino({ level: 'silent' })
const target = { endpoint: { partitionStrategy: 'Property', partitionKeyProperty: 'device', copyMqttProperties: 'Enabled' }, instanceId: 3, dataflow: 'df', destinationTopic: 'out-${inputTopic.2}' }

function message (i: number): InboundMqttMessage {
  return {
    topic: `plant/line${i % 2}`,
    payload: Buffer.from(`payload-${i}`),
    qos: 1,
    retain: false,
    properties: { contentType: 'text/plain', correlationData: Buffer.from([0, 255, i]), userProperties: { device: `d${i}`, tag: ['a', 'b'] } },
    receivedAt: 1_700_000_000_000
  }
}

/** A pass-through proxy in front of the translator that counts requests. */
async function countingProxy (port: number): Promise<{ url: string, requests: number[], close: () => Promise<void> }> {
  const requests: number[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      requests.push((JSON.parse(body.toString()) as { messages: unknown[] }).messages.length)
      const up = httpRequest({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (upRes) => { res.writeHead(upRes.statusCode ?? 502, upRes.headers); upRes.pipe(res) })
      up.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

t.test('messages asked for in one tick travel in one request and come back as the in-process translation', async (t) => {
  const service = await startTranslator({ port: 0, logger: quiet })
  t.teardown(() => service.close())
  const proxy = await countingProxy(service.port)
  t.teardown(() => proxy.close())
  const remote = createRemoteTranslator({ url: proxy.url })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  const now = 1_700_000_001_000
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => translate(message(i), now)))
  t.same(proxy.requests, [20], 'one POST for the tick')
  for (const [i, r] of results.entries()) {
    const m = message(i)
    const local = translateMqttMessage({ ...m, properties: { ...m.properties, userProperties: [['device', `d${i}`], ['tag', 'a'], ['tag', 'b']] } } as never, target.endpoint as never, { now, instanceId: 3, dataflow: 'df', destinationTopic: target.destinationTopic })
    t.ok(r.ok && local.ok)
    if (r.ok && local.ok) {
      t.equal(r.record.topic, local.record.topic)
      t.same(Buffer.from(r.record.key ?? []), Buffer.from(local.record.key ?? []))
      t.same(Buffer.from(r.record.value), Buffer.from(local.record.value))
      t.same(r.record.headers.map(([k, v]) => [k, Buffer.from(v).toString('hex')]), local.record.headers.map(([k, v]) => [k, Buffer.from(v).toString('hex')]))
    }
  }
})

t.test('a batch larger than maxBatch is split into several requests', async (t) => {
  const service = await startTranslator({ port: 0, logger: quiet })
  t.teardown(() => service.close())
  const proxy = await countingProxy(service.port)
  t.teardown(() => proxy.close())
  const remote = createRemoteTranslator({ url: proxy.url, maxBatch: 8 })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => translate(message(i), Date.now())))
  t.equal(results.filter((r) => r.ok).length, 20)
  t.same(proxy.requests, [8, 8, 4])
})

t.test('a translator that is down makes the promise reject as retriable (after retrying)', async (t) => {
  const service = await startTranslator({ port: 0, logger: quiet })
  const port = service.port
  await service.close()
  const remote = createRemoteTranslator({ url: `http://127.0.0.1:${port}`, attempts: 3, retryMinMs: 10, retryMaxMs: 20, timeoutMs: 1000 })
  t.teardown(() => remote.close())
  await t.rejects(Promise.resolve(remote.forDataflow(target)(message(1), Date.now())), { code: 'FG_ERR_TRANSLATOR_UNAVAILABLE', permanent: false })
})

t.test('a translator that comes back is used again', async (t) => {
  const first = await startTranslator({ port: 0, logger: quiet })
  const port = first.port
  await first.close()
  const remote = createRemoteTranslator({ url: `http://127.0.0.1:${port}`, attempts: 1 })
  t.teardown(() => remote.close())
  const translate = remote.forDataflow(target)
  await t.rejects(Promise.resolve(translate(message(1), Date.now())), { code: 'FG_ERR_TRANSLATOR_UNAVAILABLE' })
  const again = await startTranslator({ port, logger: quiet })
  t.teardown(() => again.close())
  const r = await translate(message(2), Date.now())
  t.equal(r.ok, true)
})
