// services/ingress alone — the embedded aedes broker with no interceptor, so QoS 1 PUBACKs leave at once: the
// ingest ceiling of the mqtt-to-kafka bench. Prints `{"mqttPort": N}` once listening; closes on SIGTERM.
import { pino } from 'pino'
import { startIngress } from '@flowgate/ingress'

const ingress = await startIngress({ host: '127.0.0.1', mqttPort: 0, logger: pino({ level: 'silent' }) })
process.stdout.write(JSON.stringify({ mqttPort: ingress.mqtt.port }) + '\n')
process.once('SIGTERM', () => { void ingress.close().finally(() => process.exit(0)) })
