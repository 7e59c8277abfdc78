import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestPki {
  dir: string
  ca: string
  serverCert: string
  serverKey: string
  clientCert: string
  clientKey: string
}

/** A throwaway CA with a server certificate for 127.0.0.1/localhost and a client certificate (CN given), via openssl. */
export function makeTestPki (clientCn = 'device-1'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-pki-'))
  const p = (name: string): string => join(dir, name)
  const ssl = (...args: string[]): void => { execFileSync('openssl', args, { stdio: 'ignore' }) }
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=flowgate-test-ca', '-keyout', p('ca.key'), '-out', p('ca.crt'))
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  for (const [name, cn, ext] of [['server', 'localhost', 'server.ext'], ['client', clientCn, undefined]] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`))
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-out', p(`${name}.crt`), ...(ext ? ['-extfile', p(ext)] : []))
  }
  const read = (name: string): string => readFileSync(p(name), 'utf8')
  return { dir, ca: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), clientCert: read('client.crt'), clientKey: read('client.key') }
}
