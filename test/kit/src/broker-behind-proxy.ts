import { startFaultProxy, type FaultProxy } from './fault-proxy.js'
import { startSoloBroker, type SoloBroker, type SoloBrokerOptions } from './solo-broker.js'

export interface BrokerBehindProxy {
  proxy: FaultProxy
  broker: SoloBroker
  /** `127.0.0.1:<proxy port>`: what clients bootstrap from so that every connection goes through the proxy. */
  via: string
  close: () => Promise<void>
}

/**
 * A broker of the test's own that advertises the fault proxy's port, so every connection after the bootstrap goes
 * through the proxy. The proxy starts first, on a port the system picks and the proxy then holds: a port from
 * freePort() left free while the broker starts (seconds) was seen taken meanwhile (EADDRINUSE) when several tests
 * ran at once.
 */
export async function startBrokerBehindProxy (options: Omit<SoloBrokerOptions, 'advertisedPort'> = {}): Promise<BrokerBehindProxy> {
  const target = { host: '127.0.0.1', port: 0 }
  const proxy = await startFaultProxy(target)
  let broker: SoloBroker
  try {
    broker = await startSoloBroker({ ...options, advertisedPort: proxy.port })
  } catch (err) {
    await proxy.close()
    throw err
  }
  target.port = Number(broker.bootstrap.split(':')[1])
  return {
    proxy,
    broker,
    via: `127.0.0.1:${proxy.port}`,
    async close () { await broker.destroy(); await proxy.close() }
  }
}
