import type { PartitionStrategy } from '@flowgate/translate'
/**
 * The Kafka dataflow endpoint as @flowgate/resources hands it over after defaults (the seed's `kafkaSettings`
 * plus the resource's name and namespace), and the secret material its references resolved to.
 */

export type KafkaAuthentication =
  | { method: 'SystemAssignedManagedIdentity', systemAssignedManagedIdentitySettings?: { audience?: string } }
  | { method: 'UserAssignedManagedIdentity', userAssignedManagedIdentitySettings: { clientId: string, tenantId?: string, scope?: string } }
  | { method: 'Sasl', saslSettings: { saslType: 'Plain' | 'ScramSha256' | 'ScramSha512', secretRef: string } }
  | { method: 'X509Certificate', x509CertificateSettings: { secretRef: string } }
  | { method: 'Anonymous', anonymousSettings?: Record<string, never> }

export type KafkaCompression = 'None' | 'Gzip' | 'Snappy' | 'Lz4'
export type KafkaAcks = 'Zero' | 'One' | 'All' | 'None'
export type { PartitionStrategy }

export interface KafkaBatching {
  mode: 'Enabled' | 'Disabled'
  latencyMs: number
  maxMessages: number
  maxBytes: number
}

export interface KafkaEndpoint {
  name: string
  namespace: string
  /** `host:port`, several separated by commas. */
  host: string
  authentication: KafkaAuthentication
  tls: { mode: 'Enabled' | 'Disabled', trustedCaCertificateConfigMapRef?: string }
  consumerGroupId?: string
  compression: KafkaCompression
  batching: KafkaBatching
  partitionStrategy: PartitionStrategy
  partitionKeyProperty?: string
  kafkaAcks: KafkaAcks
  copyMqttProperties: 'Enabled' | 'Disabled'
  cloudEventAttributes: 'Propagate' | 'CreateOrRemap'
}

/** What the endpoint's references resolved to (never logged). */
export interface ResolvedSecrets {
  sasl?: { username: string, password: string }
  /** `cert` is the client certificate followed by its intermediates (PEM); `key` its private key (PEM). */
  tls?: { cert: string, key: string }
  /** One or more PEM CA certificates from the trusted-CA ConfigMap. */
  trustedCa?: string
}
