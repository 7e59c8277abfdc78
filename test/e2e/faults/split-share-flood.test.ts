import t from 'tap'
import { connectAsync } from 'mqtt'
import { reportFault } from '@flowgate/testkit'
import { startSplit, sleep } from './split-harness.js'

// A share group without a member and a flood of 100 001 QoS 1 messages (4 KiB each, ~400 MB) into it, against the
// `flowgate ingress` process: what the group keeps is bounded in bytes (--share-group-max-bytes, 16 MiB here), so
// the ingress' resident memory stays bounded (sampled from /proc); every message dropped for it is answered 0x97 to
// the (MQTT 5) device and counted in the ingress' /metrics by group and reason.

const N = 100_001
const PAYLOAD = 4096
const GROUP_BYTES = 16 * 1024 * 1024
/**
 * Growth of the ingress' resident memory allowed: taking in ~400 MB within seconds costs ~130 MB of transient heap
 * and buffers on this machine whatever is kept; a group keeping everything (as before the bound) grew by ~400 MB.
 */
const MAX_GROWTH_MB = 220

t.test('a memberless share group and a 100 001-message flood: memory bounded, drops visible in /metrics', { timeout: 90_000 }, async (t) => {
  const split = await startSplit(t, { ingressArgs: ['--egress-grace-seconds', '0', '--share-group-max-bytes', String(GROUP_BYTES)] })
  const url = `mqtt://127.0.0.1:${split.mqttPort}`
  // A member that joins and leaves: the group stays, without members (as after an egress went away).
  const member = await connectAsync(url, { protocolVersion: 5, clientId: 'flood-member', reconnectPeriod: 0 })
  await member.subscribeAsync('$share/flood/flood/#', { qos: 1 })
  await member.endAsync()
  await sleep(500)
  const baseline = split.ingress.rssMb()!
  let maxRss = baseline
  const sampler = setInterval(() => { maxRss = Math.max(maxRss, split.ingress.rssMb() ?? 0) }, 100)
  t.teardown(() => clearInterval(sampler))

  // Two devices, half the flood each (each stays under the ingress' Receive Maximum, 65 535, however many wait).
  const flooders = await Promise.all([0, 1].map(async (k) => await connectAsync(url, { protocolVersion: 5, clientId: `flooder-${k}`, reconnectPeriod: 0 })))
  t.teardown(async () => { for (const d of flooders) await d.endAsync(true) })
  const payload = Buffer.alloc(PAYLOAD, 0x61)
  let refused = 0
  let acknowledged = 0
  let other = 0
  const started = Date.now()
  for (let i = 0; i < N; i++) {
    flooders[i % 2]!.publish(`flood/${i % 8}`, payload, { qos: 1 }, (err) => {
      if (err === undefined || err === null) acknowledged++
      else if ((err as Error & { code?: number }).code === 0x97) refused++
      else other++
    })
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  // Every publish has reached the ingress once the counters stop moving.
  let last = -1
  const end = Date.now() + 40_000
  while (Date.now() < end) {
    await sleep(1000)
    const now = refused + acknowledged + other
    if (now === last) break
    last = now
  }
  clearInterval(sampler)
  t.comment(`flood: ${N} × ${PAYLOAD} B in ${Date.now() - started} ms; refused 0x97 ${refused}, acknowledged ${acknowledged}, other ${other}; ingress RSS ${baseline} MB before, ${maxRss} MB at most`)

  const metrics = await (await fetch(`http://127.0.0.1:${split.ingressHttp}/metrics`)).text()
  const line = metrics.split('\n').find((l) => l.startsWith('flowgate_share_group_dropped_total{group="flood",reason="queue-bytes"}'))
  const counted = Number(line?.split(' ').pop())
  const queued = Number(metrics.split('\n').find((l) => l.startsWith('flowgate_broker_shared_queued_bytes'))?.split(' ').pop())
  t.ok(refused > N / 2, `most of the flood dropped, answered 0x97 (${refused})`)
  t.equal(acknowledged, 0, 'no success PUBACK for anything: no member took a message')
  t.equal(counted, refused, `every drop counted in /metrics by group and reason (${line})`)
  t.ok(queued <= GROUP_BYTES, `what waits stays within --share-group-max-bytes (${queued} bytes)`)
  t.ok(maxRss - baseline < MAX_GROWTH_MB, `the ingress' memory bounded: ${maxRss - baseline} MB more at most for ~${Math.round(N * PAYLOAD / 1e6)} MB offered`)
  reportFault(t, 'split: memberless share group, 100 001-message flood (4 KiB)', { acknowledged, inKafka: 0, missing: [], duplicates: 0, reordered: [] }, maxRss)
})
