import { X509Certificate } from 'node:crypto'
import { ReasonCode, type AuthenticationMethod, type AuthnOutcome, type Credentials } from '../types.js'
import { parsePemBundle } from '../pem.js'
import { subjectMatches } from './subject.js'

export interface X509Settings {
  /** PEM CA certificates from the `trustedClientCaCert` ConfigMap: roots or intermediates a device chains to. */
  trustedCas: string
  /** AIO's `authorizationAttributes`: a subject (`CN = smart-fan`, `CN = Contoso Root CA Cert, OU = …`) → attributes. */
  authorizationAttributes?: Record<string, { subject: string, attributes: Record<string, string> }>
}

/**
 * AIO's X509 method. The TLS handshake already verified the chain against the union of the port's trusted CAs
 * (OpenSSL builds the chain, with the intermediates the device sent); this method checks that the chain reaches one
 * of *its* CAs, names the principal after the leaf's CN (AIO: "its username is smart-lock") and gives it the
 * attributes of the first `authorizationAttributes` subject found walking from the leaf up the chain.
 */
export function createX509Authentication (settings: X509Settings): AuthenticationMethod {
  const cas = parsePemBundle(settings.trustedCas).map((pem) => new X509Certificate(pem))
  const attributeEntries = Object.values(settings.authorizationAttributes ?? {})
  const fingerprints = new Set(cas.map((c) => c.fingerprint256))
  const issuedByTrusted = (cert: X509Certificate): boolean =>
    fingerprints.has(cert.fingerprint256) || cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))

  return {
    method: 'X509',
    async authenticate (credentials: Credentials): Promise<AuthnOutcome> {
      const presented = credentials.certificate
      if (presented === undefined || presented.chain.length === 0) return { kind: 'irrelevant' }
      if (!presented.verified) {
        return { kind: 'fail', reasonCode: ReasonCode.NOT_AUTHORIZED, message: `client certificate refused: ${presented.verifyError ?? 'not verified'}` }
      }
      if (!presented.chain.some(issuedByTrusted)) {
        return { kind: 'fail', reasonCode: ReasonCode.NOT_AUTHORIZED, message: 'client certificate does not chain to this method\'s trustedClientCaCert' }
      }
      const leaf = presented.chain[0]!
      const cn = commonName(leaf.subject)
      let attributes: Record<string, string> = {}
      outer: for (const cert of presented.chain) {
        for (const entry of attributeEntries) {
          if (subjectMatches(entry.subject, cert.subject)) { attributes = entry.attributes; break outer }
        }
      }
      return {
        kind: 'pass',
        principal: { clientId: credentials.clientId, ...(cn !== undefined ? { username: cn } : {}), attributes },
        expiresAt: Date.parse(leaf.validTo)
      }
    }
  }
}

/** The CN of a node:crypto subject (`C=US\nCN=smart-fan`), the last one when several are given. */
function commonName (subject: string): string | undefined {
  const cns = subject.split('\n').filter((line) => line.startsWith('CN=')).map((line) => line.slice(3))
  return cns.at(-1)
}
