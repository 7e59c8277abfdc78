import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import type { Test } from 'tap'
import { startWorkersGateway, testWorkers } from './workers-gateway.js'

/** The slice of a started gateway the e2e tests use (services/gateway's `Gateway`). */
export interface StartedGateway {
  http: { host: string, port: number }
  mqtt: { host: string, port: number }
  token: string
  close: () => Promise<void>
}

export interface AdminClient {
  base: string
  apply: (yaml: string) => Promise<{ status: number, body: any }>
  get: (path: string) => Promise<{ status: number, body: any }>
}

/**
 * Starts the all-in-one gateway on free ports with a throwaway data directory, closed at the test's end: in this
 * process, or as `flowgate start --workers N` when the suite runs with FLOWGATE_TEST_WORKERS=N.
 */
export async function startTestGateway (t: Test, start: (opts: Record<string, unknown>) => Promise<StartedGateway>, extra: Record<string, unknown> = {}): Promise<StartedGateway & { admin: AdminClient }> {
  if (testWorkers() > 1) {
    const gw = await startWorkersGateway(t, extra)
    return { ...gw, admin: adminClient(`http://${gw.http.host}:${gw.http.port}`, gw.token) }
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-e2e-'))
  const gw = await start({ httpPort: 0, mqttPort: 0, dataDir, logger: pino({ level: process.env.FLOWGATE_TEST_LOG ?? 'silent' }), ...extra })
  t.teardown(async () => { await gw.close(); rmSync(dataDir, { recursive: true, force: true }) })
  return { ...gw, admin: adminClient(`http://${gw.http.host}:${gw.http.port}`, gw.token) }
}

/**
 * An admin API client for a gateway started elsewhere (a `flowgate start` child process): its base URL
 * (`http://127.0.0.1:8080`) and bearer token, with the same calls as `startTestGateway`'s `admin`.
 */
export function adminClient (base: string, token: string): AdminClient {
  const headers = { authorization: `Bearer ${token}` }
  return {
    base,
    async apply (yaml) {
      const res = await fetch(`${base}/api/v1/apply`, { method: 'POST', headers: { ...headers, 'content-type': 'application/yaml' }, body: yaml })
      return { status: res.status, body: await res.json() }
    },
    async get (path) {
      const res = await fetch(`${base}${path}`, { headers })
      return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() }
    }
  }
}
