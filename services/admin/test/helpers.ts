import { seedExample } from '@flowgate/testkit'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { pino } from 'pino'
import { startAdmin, type Admin } from '../src/start.js'

export interface TestAdmin extends Admin {
  dataDir: string
  /** Every byte the store wrote under the data directory, to look for plaintext where none may be. */
  dump: () => Promise<string>
  call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number, body: any }>
}

/** An admin API on 127.0.0.1:0 over the file store in a fresh data directory, closed when the test ends. */
export async function testAdmin (t: Test, env: NodeJS.ProcessEnv = { FLOWGATE_ADMIN_TOKEN: 'test-token' }): Promise<TestAdmin> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flowgate-admin-'))
  const admin = await startAdmin({ host: '127.0.0.1', port: 0, dataDir, env: { FLOWGATE_STORE: 'file', ...env }, logger: pino({ level: 'silent' }) })
  t.teardown(async () => {
    await admin.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> => {
    const isText = typeof body === 'string'
    const res = await fetch(admin.url + path, {
      method,
      headers: {
        authorization: `Bearer ${admin.token}`,
        ...(body !== undefined ? { 'content-type': isText ? 'application/yaml' : 'application/json' } : {}),
        ...headers
      },
      ...(body !== undefined ? { body: isText ? body : JSON.stringify(body) } : {})
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
  }
  return Object.assign(admin, { dataDir, call, dump: async () => await dumpDir(dataDir) })
}

export const kafkaEndpoint = (name = 'kafka', namespace = 'azure-iot-operations', settings: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'DataflowEndpoint',
  metadata: { name, namespace },
  spec: { endpointType: 'Kafka', kafkaSettings: { host: 'localhost:9092', tls: { mode: 'Disabled' }, ...settings } }
})

export const dataflow = (name: string, namespace: string, source: string, destination: string): Record<string, unknown> => ({
  apiVersion: 'connectivity.iotoperations.azure.com/v1beta1',
  kind: 'Dataflow',
  metadata: { name, namespace },
  spec: {
    operations: [
      { operationType: 'Source', sourceSettings: { endpointRef: source, dataSources: ['sensors/#'] } },
      { operationType: 'Destination', destinationSettings: { endpointRef: destination, dataDestination: 'telemetry' } }
    ]
  }
})

/** A seed example with the page's placeholders filled in, as a user would apply it. */
export const seedFixture = (name: string): string => seedExample(name)

export async function dumpDir (dir: string): Promise<string> {
  let all = ''
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) all += await readFile(join(entry.parentPath, entry.name), 'latin1')
  }
  return all
}
