// services/ingress alone — the embedded aedes broker with no interceptor, so QoS 1 PUBACKs leave at once: the
// ingest ceiling of the mqtt-to-kafka bench. Prints `{"mqttPort": N}` once listening; closes on SIGTERM.
import { pino } from 'pino'
import { startIngress } from '@flowgate/ingress'
import { applyRuntimeV8Flags } from '../../../services/cli/src/node-flags.js'

// The reference runs with the gateway's GC settings: a difference in the table is then Flowgate's, not V8's.
applyRuntimeV8Flags()

const ingress = await startIngress({ host: '127.0.0.1', mqttPort: 0, logger: pino({ level: 'silent' }) })
process.stdout.write(JSON.stringify({ mqttPort: ingress.mqtt.port }) + '\n')
process.once('SIGTERM', () => { void ingress.close().finally(() => process.exit(0)) })
