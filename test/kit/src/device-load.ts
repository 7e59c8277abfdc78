import { connectAsync, type MqttClient } from 'mqtt'
import type { KcatRecord } from './kcat.js'

export interface DeviceLoadOptions {
  /** mqtt:// URL of the broker. */
  url: string
  /** Topic prefix; each device publishes to `<prefix>/<clientId>`. */
  prefix: string
  /** Devices as `{ clientId, protocolVersion }`; MQTT 5 devices also send a `device-id` user property (the key). */
  devices: Array<{ clientId: string, protocolVersion: 4 | 5 }>
  /** Publishes per second per device. */
  rate: number
  /** Unacknowledged publishes a device keeps at most (its in-flight window). */
  window?: number
  /**
   * Persistent sessions (clean: false; v5 with a session expiry): after a reconnect the device resends what was not
   * acknowledged, as a device that must not lose data does. Default false.
   */
  persistent?: boolean
  /** Pads each payload (`<clientId>:<seq>:xxx…`) to this many bytes; the id checked against Kafka stays `<clientId>:<seq>`. */
  payloadBytes?: number
}

export interface DeviceLoad {
  /** Messages a device got a success PUBACK for, by id (`<clientId>:<seq>`). */
  readonly acked: Set<string>
  /** Payloads refused with a reason code, or left unanswered when the connection ended. */
  readonly failed: Map<string, string>
  readonly sent: number
  /** Stops publishing and waits (up to `settleMs`) for every outstanding publish to be answered. */
  stop: (settleMs?: number) => Promise<void>
  close: () => Promise<void>
}

/**
 * Devices publishing QoS 1 sequence numbers at a steady rate (`<clientId>:<seq>` payloads), remembering which ones
 * got a success PUBACK: the promise a fault test checks against what Kafka holds.
 */
export async function startDeviceLoad (opts: DeviceLoadOptions): Promise<DeviceLoad> {
  const acked = new Set<string>()
  const failed = new Map<string, string>()
  const window = opts.window ?? 50
  let sent = 0
  let stopped = false
  const outstanding = new Set<Promise<void>>()
  const clients: MqttClient[] = await Promise.all(opts.devices.map(async (d) =>
    await connectAsync(opts.url, {
      protocolVersion: d.protocolVersion,
      clientId: d.clientId,
      clean: opts.persistent !== true,
      ...(opts.persistent === true && d.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}),
      reconnectPeriod: 200,
      connectTimeout: 5000,
      resubscribe: false
    })))
  const inFlight = new Map<MqttClient, number>()
  const seqs = new Map<MqttClient, number>()
  const tick = setInterval(() => {
    if (stopped) return
    const perTick = Math.max(1, Math.round(opts.rate / 50))
    clients.forEach((client, i) => {
      const device = opts.devices[i]!
      for (let k = 0; k < perTick; k++) {
        if ((inFlight.get(client) ?? 0) >= window || !client.connected) return
        const seq = (seqs.get(client) ?? 0) + 1
        seqs.set(client, seq)
        const id = `${device.clientId}:${seq}`
        const payload = opts.payloadBytes === undefined ? id : `${id}:`.padEnd(opts.payloadBytes, 'x')
        inFlight.set(client, (inFlight.get(client) ?? 0) + 1)
        sent++
        const p = client.publishAsync(`${opts.prefix}/${device.clientId}`, payload, {
          qos: 1,
          ...(device.protocolVersion === 5 ? { properties: { userProperties: { 'device-id': device.clientId } } } : {})
        }).then(() => { acked.add(id) }, (err: Error) => { failed.set(id, err.message) })
          .finally(() => { inFlight.set(client, (inFlight.get(client) ?? 1) - 1); outstanding.delete(p) })
        outstanding.add(p)
      }
    })
  }, 20)
  return {
    acked,
    failed,
    get sent () { return sent },
    async stop (settleMs = 30_000) {
      stopped = true
      clearInterval(tick)
      // Unref'd: a settle timer still running once the publishes settled kept a test file's process alive.
      await Promise.race([Promise.all([...outstanding]), new Promise((resolve) => setTimeout(resolve, settleMs).unref())])
    },
    async close () {
      stopped = true
      clearInterval(tick)
      await Promise.all(clients.map(async (c) => await c.endAsync(true).catch(() => {})))
    }
  }
}

export interface LedgerCheck {
  acknowledged: number
  inKafka: number
  missing: string[]
  duplicates: number
  /** Keys whose sequence went backwards in a partition (after removing duplicates). */
  reordered: string[]
}

/** Every acknowledged payload in `records`? Each key's sequence in order? Duplicates counted. */
export function checkAgainstKafka (acked: Set<string>, records: readonly KcatRecord[]): LedgerCheck {
  const seen = new Map<string, number>()
  const lastSeq = new Map<string, number>()
  const reordered = new Set<string>()
  for (const r of records) {
    const [device, seqText] = (r.payload ?? '').split(':', 2)
    const payload = `${device}:${seqText}`
    seen.set(payload, (seen.get(payload) ?? 0) + 1)
    const seq = Number(seqText)
    if (r.key === null || device === undefined || !Number.isFinite(seq)) continue
    const last = lastSeq.get(r.key) ?? 0
    // A duplicate resends an earlier one (at-least-once); a first delivery below the last seen is out of order.
    if (seq < last && seen.get(payload) === 1) reordered.add(r.key)
    lastSeq.set(r.key, Math.max(last, seq))
  }
  const missing = [...acked].filter((p) => !seen.has(p))
  let duplicates = 0
  for (const n of seen.values()) duplicates += n - 1
  return { acknowledged: acked.size, inKafka: seen.size, missing, duplicates, reordered: [...reordered] }
}
