/**
 * An endpoint's Kafka settings and the secret material they name, read through the one door the runtime has to
 * Secrets and ConfigMaps. Shared by the Kafka destination, the Kafka source and the MQTT endpoints.
 */
import type { KafkaEndpoint, ResolvedSecrets } from '@flowgate/kafka'
import type { EndpointRef } from './resolve.js'
import { FG_ERR_SECRET_KEYS } from './errors.js'

/** Reads a Secret's values (decrypted) or a ConfigMap's data; the runtime never sees a secret any other way. */
export interface ResourceReader {
  secret: (namespace: string, name: string) => Promise<Record<string, Buffer>>
  configMap: (namespace: string, name: string) => Promise<Record<string, string>>
}

export function kafkaEndpointOf (ref: EndpointRef): KafkaEndpoint {
  return { ...(ref.spec.kafkaSettings as unknown as Omit<KafkaEndpoint, 'name' | 'namespace'>), name: ref.name, namespace: ref.namespace }
}

/**
 * The secret material an endpoint's references resolve to. SASL secrets hold `username` and `password`; a secret
 * with only `token` (the seed's `--from-literal=token=…` example) is an Event Hubs connection string, whose user
 * name is always `$ConnectionString`.
 */
export async function resolveSecrets (endpoint: KafkaEndpoint, reader: ResourceReader): Promise<ResolvedSecrets> {
  const out: ResolvedSecrets = {}
  const auth = endpoint.authentication
  if (auth.method === 'Sasl') {
    const s = await reader.secret(endpoint.namespace, auth.saslSettings.secretRef)
    const password = s.password ?? s.token
    if (password === undefined) throw FG_ERR_SECRET_KEYS(auth.saslSettings.secretRef, 'has neither "password" nor "token"')
    out.sasl = { username: s.username?.toString() ?? '$ConnectionString', password: password.toString() }
  }
  if (auth.method === 'X509Certificate') {
    const s = await reader.secret(endpoint.namespace, auth.x509CertificateSettings.secretRef)
    if (!s['tls.crt'] || !s['tls.key']) throw FG_ERR_SECRET_KEYS(auth.x509CertificateSettings.secretRef, 'needs "tls.crt" and "tls.key"')
    out.tls = { cert: s['tls.crt'].toString(), key: s['tls.key'].toString() }
  }
  const caRef = endpoint.tls.trustedCaCertificateConfigMapRef
  if (caRef) out.trustedCa = Object.values(await reader.configMap(endpoint.namespace, caRef)).join('\n')
  return out
}
