/**
 * A subscriber to an MQTT broker over the network with mqtt.js v5 — the egress' MQTT source (an external broker, or
 * the ingress in the split deployment). The PUBACK for a QoS 1 message leaves only when `accept()`'s outcome settled
 * (Kafka acknowledged, or the message was dropped for good), in arrival order [MQTT-4.6.0-2] — so what the broker saw
 * acknowledged is taken care of, and anything else is sent again (to this client after a reconnect, or to another
 * member of the share group). The session outlives the connection (`clean: false` + Session Expiry), so queued
 * messages wait across a restart.
 *
 * The connection (URL, TLS, credentials) is the endpoint's `MqttClientSetup` (client-options.ts), as for the
 * publishers; only the session differs. Credentials refused on the first connection fail the start with
 * FG_ERR_MQTT_AUTH_FAILED; later refusals are logged as errors while mqtt.js keeps trying.
 */
import { connect, type IClientOptions, type MqttClient, type Packet } from 'mqtt'
import type { MqttClientSetup } from './client-options.js'
import { MqttEndpointError } from './errors.js'

/** A message as the subscriber hands it on. */
export interface ReceivedMessage {
  topic: string
  payload: Uint8Array
  qos: 0 | 1 | 2
  retain: boolean
  /** mqtt-packet's property object as the broker decoded it. */
  properties?: Record<string, unknown>
  receivedAt: number
}

/**
 * What became of a received message: nothing set is a PUBACK with success; a reason code ≥ 0x80 refuses it (PUBACK
 * with that code); `unacknowledged` sends no PUBACK at all (stopping: the broker gives the message to someone else).
 */
export interface AckOutcome { reasonCode?: number, reasonString?: string, unacknowledged?: boolean }

interface SubscriberLogger {
  info: (o: object, msg: string) => void
  warn: (o: object, msg: string) => void
  error: (o: object, msg: string) => void
}

export interface NetworkSubscriberOptions {
  /** The endpoint's connection: URL, TLS, credentials, token refresh (mqttClientOptions). */
  setup: MqttClientSetup
  clientId: string
  filters: string[]
  /** The endpoint as `namespace/name`, for the log line that says whose credentials were refused. */
  endpoint: string
  keepAliveSeconds: number
  /** Session Expiry Interval (s): how long the broker keeps the session and its queue while this client is away. */
  sessionExpirySeconds: number
  /** MQTT 5 Receive Maximum: QoS 1 messages the broker may have unacknowledged here at once. */
  receiveMaximum?: number
  /** mqtt.js' first reconnect period, and again after each successful connect. */
  reconnectMinMs: number
  /** The wait before reconnect attempt `attempt` (0, 1, …): the caller's backoff policy. */
  reconnectDelay: (attempt: number) => number
  /** Grace period on close for outcomes in flight, so their PUBACKs still leave. */
  drainMs: number
  /** How long the start waits for the first CONNACK before going on (mqtt.js keeps trying after that). */
  firstConnectMs?: number
  accept: (message: ReceivedMessage) => Promise<AckOutcome>
  logger: SubscriberLogger
}

export interface NetworkSubscriber {
  /** Waits up to `drainMs` for PUBACKs in flight, then ends the connection; the session stays on the broker. */
  close: () => Promise<void>
}

interface HeldAck { messageId: number, settled: boolean, outcome: AckOutcome, generation: number, send?: () => void }

/** CONNACK reason codes that mean "not with these credentials" (MQTT 5 §3.2.2.2): retrying the same ones is futile. */
const AUTH_REFUSED = new Set([0x86, 0x87, 0x8a, 0x8c])
const isAuthRefusal = (err: Error & { code?: unknown }): boolean => typeof err.code === 'number' && AUTH_REFUSED.has(err.code)

/**
 * Connects, subscribes `filters` on every connect, and waits briefly for the first connection so a dataflow reports
 * problems early. Rejects with MqttEndpointError FG_ERR_MQTT_AUTH_FAILED (the broker's error as `cause`) when the
 * first connection's credentials are refused.
 */
export async function subscribeOverNetwork (opts: NetworkSubscriberOptions): Promise<NetworkSubscriber> {
  const { setup, clientId, filters, logger: log } = opts
  const url = setup.url
  const held: HeldAck[] = []
  // Entries whose PUBACK mqtt.js has not produced yet, by packet identifier (a lookup per message: no scan).
  const awaiting = new Map<number, HeldAck>()
  let generation = 0
  let attempt = 0
  let closing = false

  // The endpoint's connection (TLS, credentials) as the publisher has it; the session is a subscriber's.
  const mqttOptions: IClientOptions = {
    ...setup.options,
    clientId,
    clean: false,
    keepalive: opts.keepAliveSeconds,
    reconnectPeriod: opts.reconnectMinMs,
    connectTimeout: 10_000,
    // Subscribed on every connect below.
    resubscribe: false,
    // A token method connects once the first token is read (below).
    manualConnect: setup.refreshAuthentication !== undefined,
    properties: {
      ...setup.options.properties,
      // Says "an egress" to Flowgate's ingress, which then holds a device's PUBACK until this client acknowledged,
      // plain subscription or shared (services/ingress/src/shared-subscriptions.ts, EGRESS_ROLE). Any other
      // MQTT 5 broker ignores it.
      userProperties: { ...setup.options.properties?.userProperties, 'flowgate-role': 'egress' },
      sessionExpiryInterval: opts.sessionExpirySeconds,
      ...(opts.receiveMaximum !== undefined ? { receiveMaximum: opts.receiveMaximum } : {})
    },
    customHandleAcks (topic, payload, packet, done) {
      // While closing, the message is not taken: no callback means mqtt.js reads no further and the broker keeps it.
      if (closing) return
      const message: ReceivedMessage = {
        topic,
        payload,
        qos: packet.qos,
        retain: packet.retain ?? false,
        ...(packet.properties !== undefined ? { properties: packet.properties as Record<string, unknown> } : {}),
        receivedAt: Date.now()
      }
      const outcome = opts.accept(message)
      if (packet.qos === 0 || packet.messageId === undefined) { done(0); return }
      const entry: HeldAck = { messageId: packet.messageId, settled: false, outcome: {}, generation }
      held.push(entry)
      awaiting.set(entry.messageId, entry)
      outcome.then((o) => { entry.outcome = o }, (err: Error) => { entry.outcome = { reasonCode: 0x80, reasonString: err.message } })
        .then(() => { entry.settled = true; flush() })
      // mqtt.js holds its reading until this callback: called now, so messages keep flowing while Kafka works;
      // the PUBACK it then writes is held by `sendPacket` below until the outcome settled.
      done(0)
    }
  }

  const client: MqttClient = connect(url, mqttOptions)
  // Tokens expire: one is read before the first connect and again whenever the connection closes, so each
  // reconnect (mqtt.js waits at least reconnectMinMs) carries a fresh one.
  const refresh = setup.refreshAuthentication
  const authenticate = async (): Promise<void> => {
    if (refresh === undefined) return
    try {
      const data = await refresh()
      client.options.properties = { ...client.options.properties, authenticationData: data }
    } catch (err) {
      log.error({ url, clientId, err: (err as Error).message }, 'MQTT source: no token for the endpoint\'s authentication')
    }
  }
  if (refresh !== undefined) void authenticate().then(() => { if (!closing) client.connect() })
  // mqtt.js writes the PUBACK right after customHandleAcks' callback and offers no hook in between; its
  // `_sendPacket` is where it does. Holding that one packet there keeps the reading pipelined (one callback per
  // message would cap a connection at one message per Kafka round trip).
  const internal = client as unknown as { _sendPacket: (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void }
  const sendPacket = internal._sendPacket.bind(client)
  internal._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === 'puback') {
      const entry = packet.messageId !== undefined ? awaiting.get(packet.messageId) : undefined
      if (entry !== undefined) {
        awaiting.delete(packet.messageId!)
        entry.send = () => {
          const o = entry.outcome
          if (o.reasonCode !== undefined && o.reasonCode >= 0x80) {
            (packet as { reasonCode?: number }).reasonCode = o.reasonCode
            if (o.reasonString !== undefined) (packet as { properties?: Record<string, unknown> }).properties = { reasonString: o.reasonString.slice(0, 200) }
          }
          sendPacket(packet)
        }
        cb?.()
        flush()
        return
      }
    }
    sendPacket(packet, cb, ...rest)
  }

  const drained: Array<() => void> = []
  function flush (): void {
    while (held.length > 0 && held[0]!.settled && held[0]!.send !== undefined) {
      const entry = held.shift()!
      // A PUBACK belongs to the connection its PUBLISH came on; after a reconnect the broker sends it again.
      if (entry.generation !== generation || !client.connected) continue
      // Stopping (not a verdict on the message): leave it unacknowledged for another instance or the next start.
      if (entry.outcome.unacknowledged === true) continue
      entry.send!()
    }
    if (held.length === 0) for (const r of drained.splice(0)) r()
  }

  client.on('connect', (connack) => {
    attempt = 0
    client.options.reconnectPeriod = opts.reconnectMinMs
    log.info({ url, clientId, sessionPresent: connack.sessionPresent, filters }, 'connected to the MQTT source')
    // Every time, even with a session present: the filters may have changed since the session began.
    // Retain Handling 1: retained messages only for a subscription that is new.
    client.subscribe(filters, { qos: 1, rh: 1 }, (err, granted) => {
      if (err) return log.error({ err: err.message }, 'subscribe failed')
      const refused = (granted ?? []).filter((g) => g.qos >= 0x80)
      if (refused.length > 0) log.error({ refused }, 'the MQTT source refused subscriptions')
    })
  })
  client.on('close', () => {
    generation++
    // Outcomes of the old connection's messages still settle (Kafka has them or will), but their PUBACKs are void:
    // the broker sends those messages again.
    held.length = 0
    awaiting.clear()
    for (const r of drained.splice(0)) r()
    if (closing) return
    client.options.reconnectPeriod = opts.reconnectDelay(attempt++)
    void authenticate()
    log.warn({ url, retryInMs: client.options.reconnectPeriod }, 'MQTT source connection lost')
  })
  client.on('error', (err: Error & { code?: unknown }) => {
    // Refused credentials are an error someone has to fix (the endpoint's Secret, or the broker's side); the rest
    // (network, TLS) is what reconnecting is for.
    if (isAuthRefusal(err)) log.error({ url, clientId, code: err.code, err: err.message, endpoint: opts.endpoint }, 'the MQTT source refused this egress\' credentials')
    else log.warn({ url, err: err.message }, 'MQTT source error')
  })

  // After the first wait mqtt.js reconnects on its own; refused credentials fail the start instead.
  const refused = await new Promise<Error | undefined>((resolve) => {
    const done = (err?: Error): void => { clearTimeout(timer); client.off('connect', onConnect); client.off('error', onError); resolve(err) }
    const onConnect = (): void => done()
    const onError = (err: Error): void => { if (isAuthRefusal(err)) done(err) }
    const timer = setTimeout(done, opts.firstConnectMs ?? 5_000)
    client.on('connect', onConnect)
    client.on('error', onError)
  })
  if (refused !== undefined) {
    closing = true
    await client.endAsync(true).catch(() => undefined)
    const code = (refused as Error & { code?: number }).code
    throw new MqttEndpointError('FG_ERR_MQTT_AUTH_FAILED', refused.message, { permanent: true, cause: refused, ...(typeof code === 'number' ? { reasonCode: code } : {}) })
  }

  return {
    async close () {
      closing = true
      if (held.length > 0) {
        await Promise.race([new Promise<void>((resolve) => drained.push(resolve)), new Promise((resolve) => setTimeout(resolve, opts.drainMs).unref())])
      }
      // No DISCONNECT with reason 0x04: the session (and its queue) stays for the next start.
      await client.endAsync(false).catch(() => undefined)
    }
  }
}
