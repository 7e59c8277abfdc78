import { connect, type Socket } from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'

/**
 * A client that writes whatever packets it is told, in the order told: what a misbehaving or hostile device does
 * (mqtt.js would respect the broker's Receive Maximum and Maximum Packet Size itself, and never send past them).
 */
export interface RawClient {
  socket: Socket
  received: Packet[]
  send: (packet: Record<string, unknown>) => void
  /** The first received packet of this type (waits for it). */
  next: (cmd: string, timeoutMs?: number) => Promise<Packet>
  closed: Promise<void>
}

export async function rawClient (port: number, host = '127.0.0.1'): Promise<RawClient> {
  const socket = connect(port, host)
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const received: Packet[] = []
  const waiters: Array<() => void> = []
  const p = mqttPacket.parser({ protocolVersion: 5 })
  p.on('packet', (packet) => { received.push(packet); for (const w of waiters.splice(0)) w() })
  socket.on('data', (chunk) => p.parse(chunk))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => { for (const w of waiters.splice(0)) w(); resolve() }))
  return {
    socket,
    received,
    closed,
    send (packet) { if (!socket.destroyed) socket.write(mqttPacket.generate(packet as unknown as Packet, { protocolVersion: 5 })) },
    async next (cmd, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs
      for (;;) {
        const found = received.find((r) => r.cmd === cmd)
        if (found !== undefined) return found
        if (socket.destroyed || Date.now() > until) throw new Error(`no ${cmd} received (got ${received.map((r) => r.cmd).join(', ') || 'nothing'})`)
        await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 50) })
      }
    }
  }
}

export const connectPacket = (clientId: string, properties: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId, keepalive: 30, properties })
