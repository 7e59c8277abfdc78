import type { BrokerListener, ListenerPort } from '@flowgate/resources'
import type { AccessSource } from './source.js'
import { generateCa, issueServerCertificate, needsRenewal, parseDuration } from './self-signed.js'

export const GENERATED_ANNOTATION = 'flowgate.dev/generated-for'
// cert-manager's defaults: 90 days, renewed in the last third.
const DEFAULT_DURATION_MS = 2160 * 3600 * 1000

/**
 * `tls.mode: Automatic`: the server certificate comes from a Secret Flowgate keeps (`secretName`, else
 * `<listener>-<port>-tls`), made on first use and renewed by the same CA, so devices given the CA once keep
 * trusting the port. The CA certificate is public: it goes into the listener's status for devices to fetch.
 */
export async function automaticTls (listener: BrokerListener, p: ListenerPort, source: AccessSource, ns: string): Promise<{ tls: { mode: 'Automatic', cert: string, key: string, caCertificate: string }, notes: string[] }> {
  const spec = p.tls?.certManagerCertificateSpec
  const notes = ['tls Automatic: no cert-manager here, so Flowgate issued the server certificate from its own CA for this port (status.ports[].caCertificate)']
  if (spec?.issuerRef !== undefined) notes.push('certManagerCertificateSpec.issuerRef is cert-manager\'s: ignored')
  if (spec?.privateKey?.algorithm !== undefined && spec.privateKey.algorithm !== 'Ec256') notes.push(`privateKey.algorithm ${spec.privateKey.algorithm}: Flowgate issues Ec256 keys`)
  const name = spec?.secretName ?? `${listener.metadata.name}-${p.port}-tls`
  const owner = `${ns}/${listener.metadata.name}:${p.port}`
  const validMs = parseDuration(spec?.duration) ?? DEFAULT_DURATION_MS
  const renewBeforeMs = parseDuration(spec?.renewBefore)

  const existing = await source.secret(ns, name)
  const has = (k: string): string | undefined => existing?.[k]?.toString('utf8')
  let ca = has('ca.crt') !== undefined && has('ca.key') !== undefined ? { cert: has('ca.crt')!, key: has('ca.key')! } : undefined
  let server = has('tls.crt') !== undefined && has('tls.key') !== undefined ? { cert: has('tls.crt')!, key: has('tls.key')! } : undefined
  if (existing !== undefined && ca === undefined) throw new Error(`secret/${name} exists and was not made by Flowgate (no ca.key): name another one with certManagerCertificateSpec.secretName`)
  if (ca === undefined || needsRenewal(ca.cert)) { ca = await generateCa(`Flowgate ${owner} CA`); server = undefined }
  if (server === undefined || needsRenewal(server.cert, renewBeforeMs)) {
    server = await issueServerCertificate(ca, { validMs, ...(spec?.san?.dns !== undefined ? { dns: spec.san.dns } : {}), ...(spec?.san?.ip !== undefined ? { ip: spec.san.ip } : {}) })
    await source.putGeneratedSecret(ns, name, { 'tls.crt': server.cert, 'tls.key': server.key, 'ca.crt': ca.cert, 'ca.key': ca.key }, { [GENERATED_ANNOTATION]: owner })
  }
  return { tls: { mode: 'Automatic', cert: server.cert, key: server.key, caCertificate: ca.cert }, notes }
}
