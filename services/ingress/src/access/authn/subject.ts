/**
 * Whether AIO's subject notation (`CN = Contoso Root CA Cert, OU = Engineering, C = US`, OpenSSL's one-line form)
 * names the same distinguished name as a node:crypto subject (`C=US\nOU=Engineering\nCN=Contoso Root CA Cert`).
 * Compared as sets of attribute=value pairs: the two notations list them in opposite orders, and neither order is
 * something a person writing YAML should have to get right.
 */
export function subjectMatches (configured: string, subject: string): boolean {
  const want = pairs(configured.split(/,(?=\s*[A-Za-z][A-Za-z0-9.]*\s*=)/))
  const have = pairs(subject.split('\n'))
  if (want.size === 0 || want.size !== have.size) return false
  for (const p of want) if (!have.has(p)) return false
  return true
}

function pairs (parts: string[]): Set<string> {
  const out = new Set<string>()
  for (const part of parts) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    out.add(`${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`)
  }
  return out
}
