import { parseArgs } from 'node:util'
import { startGatewayWorkers, workerIndex, reportReady } from '@flowgate/gateway/workers'
import { pino } from 'pino'
import { FG_ERR_CLI_USAGE } from '../errors.js'
import { flagOrEnv, portFlag } from '../flags.js'
import { brokerFlagOptions, brokerFlags, brokerFlagsUsage } from '../broker-flags.js'
import { bufferFlagOptions, bufferFlags, bufferFlagsUsage } from '../buffer-flags.js'
import { kafkaHostFlagOptions, kafkaHostAliases, kafkaHostFlagsUsage } from '../kafka-host-flags.js'
import { runUntilSignal } from '@flowgate/service-kit'

export const startUsage = `flowgate start [--host 127.0.0.1] [--http-port 8080] [--mqtt-port 1883] [--data-dir ./.flowgate]
               [--store file|postgres://…] [--persistence-url redis://…] [--workers 1] [--instance-id 0] [--log-level info]
               ${brokerFlagsUsage}
               ${bufferFlagsUsage} ${kafkaHostFlagsUsage}
  Starts the all-in-one gateway: admin API, embedded MQTT broker, translator and dataflow runtime.
  Devices on the network connect through BrokerListener ports (applied like any resource), which need a
  BrokerAuthentication; --host other than loopback, or ports without one, need --allow-anonymous.
  --persistence-url keeps the broker's sessions and retained messages in Redis (default: <data-dir>/broker) and
  shares its live messages through it, so that several gateways are one broker. --workers N runs N gateway
  processes sharing the ports, one event loop each (needs --store postgres://… and --persistence-url).
  --kafka-host-alias resolves a Kafka broker name to an address without DNS (in-cluster names, off the cluster).
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
      'persistence-url': { type: 'string' },
      workers: { type: 'string' },
      'log-level': { type: 'string' },
      ...brokerFlagOptions,
      ...bufferFlagOptions,
      ...kafkaHostFlagOptions
    },
    strict: true
  })
  const broker = brokerFlags(values)
  const aliases = kafkaHostAliases(values)
  const store = flagOrEnv(values, 'store')
  const persistenceUrl = flagOrEnv(values, 'persistence-url')
  if (persistenceUrl !== undefined && !/^rediss?:\/\//.test(persistenceUrl)) throw FG_ERR_CLI_USAGE(`--persistence-url must be a redis:// or rediss:// URL (got ${JSON.stringify(persistenceUrl.replace(/\/\/[^@/]*@/, '//…@'))})`)
  const workersFlag = flagOrEnv(values, 'workers') ?? '1'
  const workers = Number(workersFlag)
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw FG_ERR_CLI_USAGE(`--workers must be a whole number from 1 to 64 (got ${JSON.stringify(workersFlag)})`)
  if (workers > 1 && (store === undefined || !/^postgres(ql)?:\/\//.test(store) || persistenceUrl === undefined)) {
    throw FG_ERR_CLI_USAGE(`--workers ${workers} needs --store postgres://… (the workers follow one store) and --persistence-url redis://… (they are one broker)`)
  }
  const logLevel = flagOrEnv(values, 'log-level')
  if (workers > 1 && workerIndex() === undefined) {
    // The primary: it only supervises the workers, which run this same command line.
    const log = pino({ level: logLevel ?? 'info', base: { service: 'gateway', role: 'primary' } })
    const running = await startGatewayWorkers(workers, log)
    return runUntilSignal(running, log)
  }
  const { startGateway } = await import('@flowgate/gateway')
  const index = workerIndex()
  const instanceId = flagOrEnv(values, 'instance-id')
  const gateway = await startGateway({
    host: flagOrEnv(values, 'host'),
    httpPort: portFlag(values, 'http-port'),
    mqttPort: portFlag(values, 'mqtt-port'),
    dataDir: flagOrEnv(values, 'data-dir'),
    store,
    // Each worker a dataflow instance of its own: instance-id × workers + its index.
    instanceId: index === undefined ? instanceId : String((Number(instanceId ?? 0) || 0) * workers + index),
    logLevel,
    allowAnonymous: broker.allowAnonymous,
    limits: broker.limits,
    dataflowBuffer: bufferFlags(values),
    kafkaHostAliases: aliases,
    ...(persistenceUrl !== undefined ? { persistenceUrl } : {}),
    ...(broker.networkHost !== undefined ? { networkHost: broker.networkHost } : {}),
    ...(index !== undefined ? { logger: pino({ level: logLevel ?? 'info', base: { service: 'gateway', worker: index } }) } : {})
  })
  if (index !== undefined) reportReady({ http: gateway.http, mqtt: gateway.mqtt })
  const code = await runUntilSignal(gateway, gateway.log)
  // A worker's channel to the primary would keep it alive after the gateway closed, until the primary's kill timer.
  if (index !== undefined) process.disconnect?.()
  return code
}
