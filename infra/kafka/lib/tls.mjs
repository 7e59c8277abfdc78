// Throwaway PKI for one rig: a root CA, an intermediate CA, a broker certificate for 127.0.0.1/localhost signed by
// the root, and a client certificate signed by the intermediate — so a client must send "leaf, then intermediate"
// for the broker, which trusts only the root, to accept it. Plus the RSA key pair and JWKS the OAUTHBEARER listener
// checks tokens against.
import { execFile } from 'node:child_process'
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { opensslFailed } from './errors.mjs'

const run = promisify(execFile)

// Our own config file, so neither the system openssl.cnf defaults nor its `x509_extensions` leak into the certificates.
const opensslConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
# *.servicebus.windows.net: tests map an Event Hubs namespace name to this broker (no DNS) and TLS still verifies the name.
subjectAltName = IP:127.0.0.1, DNS:localhost, DNS:*.servicebus.windows.net
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`

async function openssl (step, args) {
  try {
    await run('openssl', args, { timeout: 60_000 })
  } catch (err) {
    throw opensslFailed(step, (err.stderr || err.message).toString().trim().split('\n').slice(-3).join(' | '))
  }
}

/** A PKCS#8 PEM RSA key, unencrypted (what Node, librdkafka and kafkajs read as-is). */
const newKey = (path) => openssl(`making ${path}`, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path])

const serial = () => '0x1' + randomBytes(15).toString('hex') // random and positive

/** Where makePki writes each file under `dir` (known before it runs, so server.properties can be written first). */
export function pkiPaths (dir) {
  return {
    ca: join(dir, 'root-ca.pem'),
    intermediateCa: join(dir, 'intermediate-ca.pem'),
    clientCert: join(dir, 'client.pem'),
    clientChain: join(dir, 'client-chain.pem'),
    clientKey: join(dir, 'client.key'),
    keystore: join(dir, 'broker.p12'),
    brokerCert: join(dir, 'broker.pem')
  }
}

async function sign ({ dir, cnf, name, subject, section, caCert, caKey }) {
  await openssl(`requesting ${name}`, ['req', '-new', '-config', cnf, '-key', join(dir, `${name}.key`), '-subj', subject, '-out', join(dir, `${name}.csr`)])
  await openssl(`signing ${name}`, ['x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', caCert, '-CAkey', caKey, '-set_serial', serial(), '-days', '365', '-sha256', '-extfile', cnf, '-extensions', section, '-out', join(dir, `${name}.pem`)])
}

/**
 * Writes the PKI under `dir` and returns pkiPaths(dir). `storePassword` protects the broker's PKCS#12 keystore
 * (Kafka requires one for PKCS12).
 */
export async function makePki (dir, storePassword) {
  mkdirSync(dir, { recursive: true })
  const cnf = join(dir, 'openssl.cnf')
  writeFileSync(cnf, opensslConfig)
  const paths = pkiPaths(dir)
  const key = (name) => join(dir, `${name}.key`)
  const o = '/O=Flowgate test rig'

  await Promise.all(['root-ca', 'intermediate-ca', 'broker', 'client'].map((name) => newKey(key(name))))
  await openssl('making the root CA', ['req', '-x509', '-new', '-config', cnf, '-extensions', 'root_ca', '-key', key('root-ca'), '-subj', `${o}/CN=Flowgate Test Root CA`, '-set_serial', serial(), '-days', '365', '-sha256', '-out', paths.ca])
  await Promise.all([
    sign({ dir, cnf, name: 'intermediate-ca', subject: `${o}/CN=Flowgate Test Intermediate CA`, section: 'intermediate_ca', caCert: paths.ca, caKey: key('root-ca') })
      .then(() => sign({ dir, cnf, name: 'client', subject: `${o}/CN=flowgate-client`, section: 'client', caCert: paths.intermediateCa, caKey: key('intermediate-ca') })),
    sign({ dir, cnf, name: 'broker', subject: `${o}/CN=localhost`, section: 'server', caCert: paths.ca, caKey: key('root-ca') })
      // Broker identity as PKCS#12 (Java 17 reads OpenSSL 3's AES/PBKDF2 PKCS#12). The truststore is plain PEM
      // (`ssl.truststore.type=PEM`, KIP-651): an OpenSSL-made PKCS#12 without keys carries no Java "trusted cert"
      // bag attribute, so Java would load it as an empty truststore.
      .then(() => openssl('making the broker keystore', ['pkcs12', '-export', '-in', paths.brokerCert, '-inkey', key('broker'), '-name', 'broker', '-passout', `pass:${storePassword}`, '-out', paths.keystore]))
  ])
  writeFileSync(paths.clientChain, readFileSync(paths.clientCert, 'utf8') + readFileSync(paths.intermediateCa, 'utf8'))
  return paths
}

/** The OAUTHBEARER signing key and the JWKS (RFC 7517) the broker reads through a file: URL. */
export function makeOauthKeys (dir) {
  mkdirSync(dir, { recursive: true })
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const privatePath = join(dir, 'oauth-signing.key')
  writeFileSync(privatePath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 })
  const kid = `flowgate-rig-${randomBytes(6).toString('hex')}`
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
  const jwksPath = join(dir, 'jwks.json')
  writeFileSync(jwksPath, JSON.stringify({ keys: [{ kty: jwk.kty, kid, use: 'sig', alg: 'RS256', n: jwk.n, e: jwk.e }] }, null, 2) + '\n')
  return { privateKey: privatePath, kid, jwks: jwksPath }
}
