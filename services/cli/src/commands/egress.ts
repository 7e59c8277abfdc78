import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { startStandaloneEgress } from '@flowgate/egress'
import { runUntilSignal } from '@flowgate/service-kit'
import { FG_ERR_CLI_USAGE } from '../errors.js'
import { flagOrEnv, portFlag } from '../flags.js'
import { bufferFlagOptions, bufferFlags, bufferFlagsUsage } from '../buffer-flags.js'

export const egressUsage = `flowgate egress (--store postgres://…|--admin URL) --mqtt mqtt://ingress:1883 [--translator URL]
               [--instance-id 0] [--shared] [--client-id flowgate-egress] [--host 127.0.0.1] [--http-port 8083] [--data-dir ./.flowgate] [--log-level info]
               ${bufferFlagsUsage}
  Runs the dataflow runtime alone (split deployment): resources from the shared store (PostgreSQL; needs
  FLOWGATE_SECRET_KEY) or from the admin API (--admin, with FLOWGATE_ADMIN_TOKEN: read-only but for the statuses
  it writes back; no Secret values); the ingress reached as an MQTT v5 client; translation through the translator service
  (in process when --translator is absent). --client-id must differ between replicas (the MQTT session is
  per client id; default flowgate-egress-<instance-id>). /healthz, /readyz, /metrics on --http-port.
  --mqtt gives the ingress' address only (host:port): TLS (tls.mode, trustedCaCertificateConfigMapRef) and the
  credentials (authentication: UsernamePassword / X509Certificate Secret, ServiceAccountToken) are the 'default'
  DataflowEndpoint's, as for any MQTT endpoint; user info in --mqtt is refused.`

/** The flags → services/egress' standalone start-up (standalone.ts), run until a signal. */
export async function egress (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      admin: { type: 'string' },
      token: { type: 'string' },
      mqtt: { type: 'string' },
      translator: { type: 'string' },
      'instance-id': { type: 'string' },
      shared: { type: 'boolean' },
      'client-id': { type: 'string' },
      host: { type: 'string' },
      'http-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'log-level': { type: 'string' },
      ...bufferFlagOptions
    },
    strict: true
  })
  const log = pino({ level: flagOrEnv(values, 'log-level') ?? 'info', base: { service: 'egress' } })
  const storeUrl = flagOrEnv(values, 'store')
  const adminUrl = flagOrEnv(values, 'admin')
  const mqtt = flagOrEnv(values, 'mqtt')
  if ((storeUrl === undefined) === (adminUrl === undefined)) throw FG_ERR_CLI_USAGE('flowgate egress needs one of --store (postgres://…) or --admin URL')
  if (mqtt === undefined) throw FG_ERR_CLI_USAGE('flowgate egress needs --mqtt mqtt://<ingress>:<port>')
  const ingressHost = ingressHostOf(mqtt)
  const token = (typeof values.token === 'string' ? values.token : undefined) ?? process.env.FLOWGATE_ADMIN_TOKEN
  const translatorUrl = flagOrEnv(values, 'translator')
  const clientIdPrefix = flagOrEnv(values, 'client-id')
  const service = await startStandaloneEgress({
    resources: storeUrl !== undefined
      ? { store: storeUrl, dataDir: flagOrEnv(values, 'data-dir') ?? './.flowgate' }
      : { adminUrl: adminUrl!, ...(token !== undefined ? { token } : {}) },
    ingressHost,
    mqtt,
    ...(translatorUrl !== undefined ? { translatorUrl } : {}),
    instanceId: Number(flagOrEnv(values, 'instance-id') ?? 0),
    shared: values.shared === true,
    ...(clientIdPrefix !== undefined ? { clientIdPrefix } : {}),
    host: flagOrEnv(values, 'host') ?? '127.0.0.1',
    httpPort: portFlag(values, 'http-port') ?? 8083,
    buffer: bufferFlags(values),
    logger: log
  })
  return runUntilSignal(service, log)
}

/**
 * `--mqtt` → the ingress' `host:port`. Only the address comes from the flag: one endpoint resource says how to
 * connect (TLS, CA, credentials), for the source as for the publishers, and its Secret is where a password belongs
 * (a flag or URL shows in `ps` and in the Deployment). User info is refused rather than silently dropped.
 */
export function ingressHostOf (mqtt: string): string {
  let url: URL
  try { url = new URL(mqtt) } catch { throw FG_ERR_CLI_USAGE(`--mqtt ${JSON.stringify(mqtt)} is not a URL (mqtt://<ingress>:<port>)`) }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw FG_ERR_CLI_USAGE(`--mqtt must be mqtt://… or mqtts://… (got ${url.protocol}); TLS follows the \`default\` endpoint's tls.mode`)
  if (url.username !== '' || url.password !== '') {
    throw FG_ERR_CLI_USAGE('--mqtt takes no user name or password: give them to the `default` DataflowEndpoint (authentication: UsernamePassword with a Secret holding username and password)')
  }
  if (url.port === '') throw FG_ERR_CLI_USAGE(`--mqtt ${JSON.stringify(mqtt)} needs a port (mqtt://<ingress>:<port>)`)
  return url.host
}
