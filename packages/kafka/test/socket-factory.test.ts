import t from 'tap'
import type { LookupFunction } from 'node:net'
import { staticLookup } from '../src/socket-factory.js'

// The Event Hubs e2e test points `<namespace>.servicebus.windows.net` at loopback through this table: a mapped name
// must never reach the fallback resolver (DNS), or a test could resolve a public name.
t.test('a mapped name is answered from the table and never reaches the fallback resolver', async (t) => {
  let fallbackCalls = 0
  const fallback = ((_h: string, _o: object, cb: (err: Error | null, address: string, family: number) => void) => { fallbackCalls++; cb(new Error('no DNS in tests'), '', 0) }) as unknown as LookupFunction
  const lookup = staticLookup({ 'flowgate-test.servicebus.windows.net': '127.0.0.1' }, fallback)
  const one = await new Promise<[string, number]>((resolve, reject) => lookup('flowgate-test.servicebus.windows.net', {}, (err, address, family) => err ? reject(err) : resolve([address as string, family ?? 0])))
  t.same(one, ['127.0.0.1', 4])
  const all = await new Promise<unknown>((resolve, reject) => lookup('FLOWGATE-TEST.servicebus.windows.net', { all: true }, (err, address) => err ? reject(err) : resolve(address)))
  t.same(all, [{ address: '127.0.0.1', family: 4 }], 'case-insensitive, and the `all` form as net.connect asks for it')
  t.equal(fallbackCalls, 0, 'DNS never asked')
  await t.rejects(new Promise((resolve, reject) => staticLookup({})('unmapped.example', {}, (err) => err ? reject(err) : resolve(undefined))), { code: 'ENOTFOUND' }, 'without a fallback an unmapped name fails at once')
})
