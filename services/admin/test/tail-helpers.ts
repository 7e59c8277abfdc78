import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { pino } from 'pino'
import type { Test } from 'tap'
import WebSocket from 'ws'
import { adminPlugin } from '../src/plugin.js'
import { createTailHub, type TailEvent, type TailHub } from '../src/tail/index.js'
import { openAdminState } from '../src/state.js'

export interface TailServer { url: string, wsUrl: string, token: string, hub: TailHub }

/** The admin plugin on 127.0.0.1:0 with a hub the test publishes into, closed when the test ends. */
export async function tailServer (t: Test): Promise<TailServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowgate-tail-'))
  const state = await openAdminState({ dataDir, env: { FLOWGATE_STORE: 'file', FLOWGATE_ADMIN_TOKEN: 'tail-token' } })
  const hub = createTailHub()
  const app = Fastify()
  await app.register(adminPlugin, { store: state.store, token: state.token, cipher: state.cipher, logger: pino({ level: 'silent' }), tail: hub })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => { await app.close(); await state.close(); await rm(dataDir, { recursive: true, force: true }) })
  const { port } = app.server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/api/v1/tail`, token: state.token, hub }
}

export function event (over: Partial<TailEvent> = {}): TailEvent {
  return {
    ts: new Date(0).toISOString(),
    dataflow: 'df',
    namespace: 'default',
    direction: 'mqtt-to-kafka',
    source: { topic: 'factory/line1/temp', properties: { qos: 1, retain: false } },
    destination: { topic: 'telemetry', partition: 0, offset: '7', headers: {} },
    payload: Buffer.from('{"t":21.5}'),
    ...over
  }
}

/** A socket plus every message and the close it saw. */
export interface Client { ws: WebSocket, frames: any[], closed: Promise<{ code: number, reason: string }> }

export function connect (url: string, headers: Record<string, string> = {}): Client {
  const ws = new WebSocket(url, { headers })
  const frames: any[] = []
  ws.on('message', (data) => frames.push(JSON.parse(String(data))))
  ws.on('error', () => {})
  const closed = new Promise<{ code: number, reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })))
  return { ws, frames, closed }
}

export async function until (check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
