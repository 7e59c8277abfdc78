import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Kafka } from 'kafkajs'
import { signRigToken, type RigInfo } from '@flowgate/testkit'
import { kafkaConfig, type KafkaEndpoint, type ResolvedSecrets } from '../src/index.js'
import { endpoint, silent } from './helpers.js'

const run = promisify(execFile)

/** The endpoint configuration (and resolved secrets) a user would write for each rig listener. */
export function listenerEndpoint (r: RigInfo, which: 'plaintext' | 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'mtls' | 'eventhubs', over: Partial<KafkaEndpoint> = {}): { endpoint: KafkaEndpoint, secrets: ResolvedSecrets } {
  const trustedCa = readFileSync(r.tls.ca, 'utf8')
  switch (which) {
    case 'plaintext': return { endpoint: endpoint({ host: r.listeners.plaintext, ...over }), secrets: {} }
    case 'plain': case 'scram-sha-256': case 'scram-sha-512': {
      const saslType = ({ plain: 'Plain', 'scram-sha-256': 'ScramSha256', 'scram-sha-512': 'ScramSha512' } as const)[which]
      return { endpoint: endpoint({ host: r.listeners.saslPlaintext, authentication: { method: 'Sasl', saslSettings: { saslType, secretRef: which } }, ...over }), secrets: { sasl: r.users[which] } }
    }
    case 'mtls': return {
      endpoint: endpoint({ host: r.listeners.ssl, tls: { mode: 'Enabled', trustedCaCertificateConfigMapRef: 'rig-ca' }, authentication: { method: 'X509Certificate', x509CertificateSettings: { secretRef: 'client-tls' } }, ...over }),
      secrets: { trustedCa, tls: { cert: readFileSync(r.tls.clientChain, 'utf8'), key: readFileSync(r.tls.clientKey, 'utf8') } }
    }
    case 'eventhubs': return {
      endpoint: endpoint({ host: r.listeners.saslSsl, tls: { mode: 'Enabled', trustedCaCertificateConfigMapRef: 'rig-ca' }, authentication: { method: 'Sasl', saslSettings: { saslType: 'Plain', secretRef: 'cs-secret' } }, ...over }),
      secrets: { trustedCa, sasl: r.users.eventhubs }
    }
  }
}

export function kafkaFor (e: { endpoint: KafkaEndpoint, secrets: ResolvedSecrets }): Kafka {
  return new Kafka(kafkaConfig(e.endpoint, e.secrets, { clientId: 'flowgate-kafka-test', logger: silent }))
}

/** The partition directory of a topic in the broker's log dirs. */
function partitionDir (r: RigInfo, topic: string, partition: number): string {
  const want = `${topic}-${partition}`
  const stack = [r.dir]
  while (stack.length > 0) {
    const dir = stack.pop()!
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (!statSync(p).isDirectory()) continue
      if (name === want) return p
      if (!/-\d+$/.test(name) || name.startsWith('__')) stack.push(p)
    }
  }
  throw new Error(`no log directory ${want} under ${r.dir}`)
}

export interface StoredBatch { baseOffset: number, count: number, codec: string }

/** The record batches as the broker stored them, read with Kafka's own DumpLogSegments (org.apache.kafka.tools in Kafka 4, no longer kafka.tools). */
export async function storedBatches (r: RigInfo, topic: string, partition = 0): Promise<StoredBatch[]> {
  const dir = partitionDir(r, topic, partition)
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => join(dir, f))
  const { stdout } = await run('java', ['-cp', `${r.classpath}/*`, 'org.apache.kafka.tools.DumpLogSegments', '--files', logs.join(',')], { timeout: 60_000, maxBuffer: 1e8 })
  const out: StoredBatch[] = []
  for (const line of stdout.split('\n')) {
    const m = /baseOffset: (\d+) lastOffset: \d+ count: (\d+).*compresscodec: (\w+)/.exec(line)
    if (m) out.push({ baseOffset: Number(m[1]), count: Number(m[2]), codec: m[3]!.toLowerCase() })
  }
  return out
}

/** What Java's client would pick for each key: Utils.toPositive(Utils.murmur2(key)) % partitions, run on the rig's jars. */
export async function javaPartitions (r: RigInfo, keys: string[], partitions: number): Promise<number[]> {
  const src = join(r.dir, 'Murmur2.java')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(src, `import org.apache.kafka.common.utils.Utils;
public class Murmur2 { public static void main(String[] a) { int n = Integer.parseInt(a[0]);
  for (int i = 1; i < a.length; i++) System.out.println(Utils.toPositive(Utils.murmur2(a[i].getBytes(java.nio.charset.StandardCharsets.UTF_8))) % n); } }`)
  const { stdout } = await run('java', ['-cp', `${r.classpath}/*`, src, String(partitions), ...keys], { timeout: 60_000 })
  return stdout.trim().split('\n').map(Number)
}

export { tokenServer, type TokenServer } from '@flowgate/testkit'
