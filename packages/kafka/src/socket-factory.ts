import { connect as netConnect, isIP, type LookupFunction } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { ISocketFactory } from 'kafkajs'

const KEEP_ALIVE_MS = 60_000

/**
 * kafkajs' own socket factory, plus a name `lookup`: a broker name can resolve through a map instead of DNS
 * (tests point `<namespace>.servicebus.windows.net` at loopback; air-gapped sites pin names). TLS still checks the
 * certificate against the broker's *name* (SNI and hostname verification), not the address it resolved to.
 */
export function socketFactoryWithLookup (lookup: LookupFunction): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tlsConnect({ host, port, lookup, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : netConnect({ host, port, lookup }, onConnect)
    socket.setKeepAlive(true, KEEP_ALIVE_MS)
    return socket
  }
}

/** A `lookup` that answers from a table (`name` → IP) and falls back to the system resolver for other names. */
export function staticLookup (table: Record<string, string>, fallback?: LookupFunction): LookupFunction {
  return ((hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | Array<{ address: string, family: number }>, family?: number) => void) => {
    const address = table[hostname.toLowerCase()]
    if (address === undefined) {
      if (fallback) return fallback(hostname, options as never, callback as never)
      const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
      return callback(err, '', 0)
    }
    const family = isIP(address)
    if ((options as { all?: boolean }).all) return callback(null, [{ address, family }])
    callback(null, address, family)
  }) as LookupFunction
}
