import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { RigInfo } from './rig.js'
import type { Listener } from './kafka.js'

const run = promisify(execFile)

/** librdkafka settings (`-X`) for Debian's kcat to reach a rig listener: a client we did not write. */
export function kcatArgs (r: RigInfo, listener: Exclude<Listener, 'oauthbearer'>): string[] {
  const x = (k: string, v: string): string[] => ['-X', `${k}=${v}`]
  const args = ['-b', r.listeners[listener]]
  switch (listener) {
    case 'plaintext': return args
    case 'saslPlaintext': return [...args, ...x('security.protocol', 'SASL_PLAINTEXT'), ...x('sasl.mechanisms', 'PLAIN'), ...x('sasl.username', r.users.plain.username), ...x('sasl.password', r.users.plain.password)]
    case 'ssl': return [...args, ...x('security.protocol', 'SSL'), ...x('ssl.ca.location', r.tls.ca), ...x('ssl.certificate.location', r.tls.clientChain), ...x('ssl.key.location', r.tls.clientKey)]
    case 'saslSsl': return [...args, ...x('security.protocol', 'SASL_SSL'), ...x('ssl.ca.location', r.tls.ca), ...x('sasl.mechanisms', 'PLAIN'), ...x('sasl.username', r.users.eventhubs.username), ...x('sasl.password', r.users.eventhubs.password)]
  }
}

export interface KcatRecord { topic: string, partition: number, offset: number, key: string | null, payload: string | null, headers: string[] | null }

export interface KcatConsumeOptions {
  /**
   * Bootstrap `host:port` instead of the rig listener's (a test's own broker, `startSoloBroker().bootstrap`); the
   * listener still says which security settings apply.
   */
  bootstrap?: string
}

/** Consumes `count` records with kcat's JSON envelope (`-J`), headers included. */
export async function kcatConsume (r: RigInfo, listener: Exclude<Listener, 'oauthbearer'>, topic: string, count: number, opts: KcatConsumeOptions = {}): Promise<KcatRecord[]> {
  const args = kcatArgs(r, listener)
  if (opts.bootstrap !== undefined) args[1] = opts.bootstrap
  const { stdout } = await run('kcat', [...args, '-C', '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-J', '-q'], { timeout: 30_000, maxBuffer: 256 * 1024 * 1024 })
  return stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as KcatRecord)
}
