import { webcrypto, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import * as x509 from '@peculiar/x509'

/**
 * `tls.mode: Automatic` off Kubernetes. AIO asks cert-manager for the server certificate; there is no
 * cert-manager here, so Flowgate is its own small issuer: a CA made once per listener port (kept in a Secret, so
 * devices that trust it keep working across restarts) and a server certificate it signs, renewed before it expires.
 * @peculiar/x509 over WebCrypto: node:crypto makes keys but cannot write certificates.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto)

export interface IssuedCertificate { cert: string, key: string }
export interface GeneratedServerTls { ca: IssuedCertificate, server: IssuedCertificate }

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const
const DAY = 24 * 3600 * 1000

async function keyPair (): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair
}

async function pemKey (key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
}

const serial = (): string => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1')

export async function generateCa (commonName: string, validDays = 3650): Promise<IssuedCertificate> {
  const keys = await keyPair()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + validDays * DAY),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  })
  return { cert: cert.toString('pem') + '\n', key: await pemKey(keys.privateKey) }
}

/** A server certificate for the names devices use: localhost, loopback, this host's name, and `san` from the spec. */
export async function issueServerCertificate (ca: IssuedCertificate, opts: { dns?: readonly string[], ip?: readonly string[], validMs: number }): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.cert)
  const caKey = await webcrypto.subtle.importKey('pkcs8', pemBody(ca.key), EC, false, ['sign'])
  const keys = await keyPair()
  const dns = [...new Set(['localhost', hostname(), ...(opts.dns ?? [])])]
  const ips = [...new Set(['127.0.0.1', '::1', ...(opts.ip ?? [])])].filter((ip) => isIP(ip) !== 0)
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${dns[0]}`,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + opts.validMs),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert)
    ]
  })
  return { cert: cert.toString('pem') + '\n', key: await pemKey(keys.privateKey) }
}

/** Whether a certificate should be replaced now: expired, or inside its renewal window (cert-manager's rule: the last third). */
export function needsRenewal (pem: string, renewBeforeMs?: number, now = Date.now()): boolean {
  try {
    const c = new X509Certificate(pem)
    const from = Date.parse(c.validFrom)
    const to = Date.parse(c.validTo)
    const window = renewBeforeMs ?? (to - from) / 3
    return now >= to - window
  } catch {
    return true
  }
}

/** cert-manager's duration syntax (`2160h`, `90m`, `1h30m`) in milliseconds. */
export function parseDuration (text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim())
  if (m === null || text.trim() === '') return undefined
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000
}

function pemBody (pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
}
