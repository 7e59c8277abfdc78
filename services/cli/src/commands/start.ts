import { parseArgs } from 'node:util'
import { startGateway } from '@flowgate/gateway'
import { flagOrEnv, portFlag } from '../flags.js'
import { brokerFlagOptions, brokerFlags, brokerFlagsUsage } from '../broker-flags.js'
import { bufferFlagOptions, bufferFlags, bufferFlagsUsage } from '../buffer-flags.js'
import { runUntilSignal } from '@flowgate/service-kit'

export const startUsage = `flowgate start [--host 127.0.0.1] [--http-port 8080] [--mqtt-port 1883] [--data-dir ./.flowgate]
               [--store file|postgres://…] [--instance-id 0] [--log-level info]
               ${brokerFlagsUsage}
               ${bufferFlagsUsage}
  Starts the all-in-one gateway: admin API, embedded MQTT broker, translator and dataflow runtime.
  Devices on the network connect through BrokerListener ports (applied like any resource), which need a
  BrokerAuthentication; --host other than loopback, or ports without one, need --allow-anonymous.
  Each flag has an environment twin: --http-port ↔ FLOWGATE_HTTP_PORT.`

/** Runs the gateway until SIGINT or SIGTERM, then closes it cleanly. */
export async function start (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      'http-port': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'data-dir': { type: 'string' },
      store: { type: 'string' },
      'instance-id': { type: 'string' },
      'log-level': { type: 'string' },
      ...brokerFlagOptions,
      ...bufferFlagOptions
    },
    strict: true
  })
  const broker = brokerFlags(values)
  const gateway = await startGateway({
    host: flagOrEnv(values, 'host'),
    httpPort: portFlag(values, 'http-port'),
    mqttPort: portFlag(values, 'mqtt-port'),
    dataDir: flagOrEnv(values, 'data-dir'),
    store: flagOrEnv(values, 'store'),
    instanceId: flagOrEnv(values, 'instance-id'),
    logLevel: flagOrEnv(values, 'log-level'),
    allowAnonymous: broker.allowAnonymous,
    limits: broker.limits,
    dataflowBuffer: bufferFlags(values),
    ...(broker.networkHost !== undefined ? { networkHost: broker.networkHost } : {})
  })
  return runUntilSignal(gateway, gateway.log)
}
