import { connect, type MqttClient, type IClientOptions, type IPublishPacket } from 'mqtt'

export type Received = [topic: string, payload: Buffer, packet: IPublishPacket]

/** The next message a client receives (mqtt.js' typed emitter does not fit `events.once`). */
export function nextMessage (client: MqttClient): Promise<Received> {
  return new Promise((resolve) => client.once('message', (topic, payload, packet) => resolve([topic, payload, packet])))
}

/** Collects `count` messages, or fails after `timeoutMs` saying how many arrived. */
export function collectMessages (client: MqttClient, count: number, timeoutMs = 20_000): Promise<Received[]> {
  const got: Received[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.off('message', on); reject(new Error(`received ${got.length}/${count} MQTT messages in ${timeoutMs} ms`)) }, timeoutMs)
    function on (topic: string, payload: Buffer, packet: IPublishPacket): void {
      got.push([topic, payload, packet])
      if (got.length >= count) { clearTimeout(timer); client.off('message', on); resolve(got) }
    }
    client.on('message', on)
  })
}

/**
 * An mqtt.js client (MQTT 5 unless `opts` says otherwise) whose messages are recorded from the first packet on: a
 * resumed session's queue arrives right behind the CONNACK, before any listener added after connecting would see it.
 */
export async function recordMessages (url: string, opts: IClientOptions): Promise<{ client: MqttClient, got: IPublishPacket[], sessionPresent: boolean, connack: Record<string, unknown> }> {
  const got: IPublishPacket[] = []
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 10_000, ...opts })
  client.on('message', (_topic, _payload, packet) => got.push(packet))
  const connack = await new Promise<Record<string, unknown>>((resolve, reject) => {
    client.once('connect', (p) => resolve(p as unknown as Record<string, unknown>))
    client.once('error', reject)
  })
  return { client, got, sessionPresent: connack.sessionPresent === true, connack }
}
