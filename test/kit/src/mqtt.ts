import type { MqttClient, IPublishPacket } from 'mqtt'

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
