import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A certificate and its key, as PEM text and as files (for tools and servers that want paths). */
export interface IssuedCertificate {
  /** The certificate followed by the intermediates a peer needs to reach the root (what a TLS endpoint sends). */
  cert: string
  /** The certificate alone. */
  leaf: string
  key: string
  certFile: string
  keyFile: string
}

export interface DevicePki {
  dir: string
  /** Self-signed root CA: what servers and brokers trust. */
  root: IssuedCertificate
  /** CA signed by the root; it signs the server and device certificates. */
  intermediate: IssuedCertificate
  /** Root then intermediate, one PEM bundle (a trustedClientCaCert ConfigMap that lists both). */
  caBundle: string
  /** For `localhost`, `127.0.0.1` and `::1`; `cert` is the server certificate plus the intermediate. */
  server: IssuedCertificate
  /** A new server certificate (same names, same intermediate): what a rotation installs. */
  reissueServer: () => IssuedCertificate
  /** A new client certificate for CN `cn`, signed by the intermediate; `cert` carries the intermediate too. */
  device: (cn: string, opts?: { expired?: boolean }) => IssuedCertificate
  /** An unrelated root CA and a device certificate it signed: the "unknown CA" case. */
  rogue: { root: IssuedCertificate, device: IssuedCertificate }
  /** Deletes `dir`. */
  remove: () => void
}

// One config for every openssl call: no dependence on the system openssl.cnf, whose defaults differ between distros.
const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
[dn]
[root_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[intermediate_ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier = keyid
[device]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
# \`openssl ca\` (used only for expired certificates) needs a database; it signs any subject that has a CN.
[ca]
default_ca = intermediate
[intermediate]
database = ca-index.txt
serial = ca-serial
new_certs_dir = ca-issued
default_md = sha256
policy = any_cn
unique_subject = no
copy_extensions = none
[any_cn]
commonName = supplied
`

const VALID_DAYS = '30'

/**
 * A two-level test PKI (root → intermediate → server and devices) plus a rogue root, made with the `openssl` CLI
 * and EC P-256 keys (fast to generate). Everything lands in `dir` (a new temp directory unless given).
 *
 * Expired certificates: this image has OpenSSL 3.0, whose `x509 -req` has no `-not_before`/`-not_after` (3.4+)
 * and refuses `-days` below -1, and there is no faketime. `openssl ca` does take `-startdate`/`-enddate`, so expired
 * device certificates are signed with it (valid from three days ago until yesterday).
 */
export function makeDevicePki (dir?: string): DevicePki {
  if (dir === undefined) dir = mkdtempSync(join(tmpdir(), 'flowgate-device-pki-'))
  else mkdirSync(dir, { recursive: true })
  const base = dir
  const p = (name: string): string => join(base, name)
  const read = (name: string): string => readFileSync(p(name), 'utf8')
  writeFileSync(p('openssl.cnf'), OPENSSL_CONFIG)
  writeFileSync(p('ca-index.txt'), '')
  writeFileSync(p('ca-serial'), '1000\n')
  mkdirSync(p('ca-issued'), { recursive: true })

  const ssl = (...args: string[]): void => {
    try {
      execFileSync('openssl', args, { cwd: base, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OPENSSL_CONF: p('openssl.cnf') } })
    } catch (err) {
      // openssl's stderr says what it disliked; the default error shows it as a byte dump.
      const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim()
      throw new Error(`openssl ${args[0]} failed in ${base}: ${stderr}`, { cause: err })
    }
  }
  const newKeyAndCsr = (name: string, cn: string): void => {
    ssl('req', '-new', '-config', p('openssl.cnf'), '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', `/CN=${escapeRdnValue(cn)}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`))
  }
  const selfSignedRoot = (name: string, cn: string): IssuedCertificate => {
    ssl('req', '-x509', '-config', p('openssl.cnf'), '-extensions', 'root_ca', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-days', VALID_DAYS, '-subj', `/CN=${cn}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.leaf.crt`))
    return issued(name, [])
  }
  const signWith = (issuer: string, name: string, extensions: string): void => {
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${issuer}.crt`), '-CAkey', p(`${issuer}.key`), '-CAcreateserial',
      '-days', VALID_DAYS, '-sha256', '-extfile', p('openssl.cnf'), '-extensions', extensions, '-out', p(`${name}.leaf.crt`))
  }
  const signExpiredWithIntermediate = (name: string): void => {
    const day = 24 * 60 * 60 * 1000
    ssl('ca', '-batch', '-config', p('openssl.cnf'), '-cert', p('intermediate.crt'), '-keyfile', p('intermediate.key'),
      '-in', p(`${name}.csr`), '-startdate', generalizedTime(Date.now() - 3 * day), '-enddate', generalizedTime(Date.now() - day),
      '-extfile', p('openssl.cnf'), '-extensions', 'device', '-notext', '-out', p(`${name}.leaf.crt`))
  }
  /** Writes `<name>.crt` as `<name>.leaf.crt` plus `chain` and returns the files' contents. */
  const issued = (name: string, chain: string[]): IssuedCertificate => {
    const leaf = read(`${name}.leaf.crt`)
    writeFileSync(p(`${name}.crt`), [leaf, ...chain].join(''))
    return { cert: read(`${name}.crt`), leaf, key: read(`${name}.key`), certFile: p(`${name}.crt`), keyFile: p(`${name}.key`) }
  }

  const root = selfSignedRoot('root', 'Flowgate Test Root CA')
  newKeyAndCsr('intermediate', 'Flowgate Test Intermediate CA')
  signWith('root', 'intermediate', 'intermediate_ca')
  const intermediate = issued('intermediate', [])
  newKeyAndCsr('server', 'localhost')
  signWith('intermediate', 'server', 'server')
  const server = issued('server', [intermediate.leaf])

  let servers = 0
  /** Another server certificate for the same names from the same intermediate: a rotation devices accept. */
  const reissueServer = (): IssuedCertificate => {
    const name = `server-${++servers}`
    newKeyAndCsr(name, 'localhost')
    signWith('intermediate', name, 'server')
    return issued(name, [intermediate.leaf])
  }

  let devices = 0
  const device = (cn: string, opts: { expired?: boolean } = {}): IssuedCertificate => {
    // The CN may hold characters a file name cannot; the counter keeps repeated CNs apart.
    const name = `device-${++devices}-${cn.replace(/[^A-Za-z0-9._-]/g, '_')}`
    newKeyAndCsr(name, cn)
    if (opts.expired === true) signExpiredWithIntermediate(name)
    else signWith('intermediate', name, 'device')
    return issued(name, [intermediate.leaf])
  }

  const rogueRoot = selfSignedRoot('rogue-root', 'Rogue Root CA')
  newKeyAndCsr('rogue-device', 'rogue-device')
  signWith('rogue-root', 'rogue-device', 'device')
  const rogueDevice = issued('rogue-device', [])

  return {
    dir: base,
    root,
    intermediate,
    caBundle: root.leaf + intermediate.leaf,
    server,
    reissueServer,
    device,
    rogue: { root: rogueRoot, device: rogueDevice },
    remove: () => rmSync(base, { recursive: true, force: true })
  }
}

/** `-subj` splits on `/`, `+` and `=`; a backslash makes them part of the value. */
function escapeRdnValue (value: string): string {
  return value.replace(/[\\/+=]/g, (c) => `\\${c}`)
}

/** `YYYYMMDDHHMMSSZ`, the form `openssl ca -startdate/-enddate` takes. */
function generalizedTime (ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}/, '')
}
