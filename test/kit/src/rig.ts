import { readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The rig's stable interface (infra/kafka/README.md): what `pnpm kafka:start` writes to `.run/rig.json`. */
export interface RigInfo {
  pid: number
  dir: string
  kafkaVersion: string
  listeners: Record<'plaintext' | 'saslPlaintext' | 'ssl' | 'saslSsl' | 'oauthbearer', string>
  users: Record<'plain' | 'scram-sha-256' | 'scram-sha-512' | 'eventhubs', { username: string, password: string }>
  tls: { ca: string, intermediateCa: string, clientCert: string, clientChain: string, clientKey: string }
  oauth: { privateKey: string, kid: string, audience: string, jwks: string }
  classpath: string
  log: string
}

export const rigFile = fileURLToPath(new URL('../../../infra/kafka/.run/rig.json', import.meta.url))

/** The running rig; starts one (or reuses the running one) when a single test file is run on its own. */
export async function rig (): Promise<RigInfo> {
  if (!existsSync(rigFile)) {
    const { startRig } = await import('../../../infra/kafka/rig.mjs' as string) as { startRig: () => Promise<unknown> }
    await startRig()
  }
  return JSON.parse(readFileSync(rigFile, 'utf8')) as RigInfo
}
