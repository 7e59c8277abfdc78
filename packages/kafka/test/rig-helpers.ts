import { readFileSync } from 'node:fs'
import { Kafka } from 'kafkajs'
import type { RigInfo } from '@flowgate/testkit'
import { kafkaConfig } from '../src/client-config.js'
import type { KafkaEndpoint, ResolvedSecrets } from '../src/types.js'
import { endpoint, silent } from './helpers.js'

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

export { storedBatches, javaPartitions, type StoredBatch } from '@flowgate/testkit'
export { tokenServer, type TokenServer } from '@flowgate/testkit'
