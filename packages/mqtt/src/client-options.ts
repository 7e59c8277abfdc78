/**
 * An MQTT endpoint's `mqttSettings` → mqtt.js 5 client options (MQTT 5 only). Decisions where AIO's settings leave
 * room:
 * - `host` is `host:port`; no port is refused rather than guessed (1883 vs 8883 depends on TLS).
 * - `tls.mode` defaults to Enabled (the schema's default): `mqtts://`, or `wss://` with `protocol: WebSockets`;
 *   with a trusted-CA ConfigMap only those CAs are trusted, otherwise Node's bundled roots.
 * - Clean Start with the Session Expiry Interval from `sessionExpirySeconds`: a destination session holds nothing a
 *   publisher needs back (its in-flight QoS 1 messages are resent by mqtt.js itself after a reconnect).
 * - `UsernamePassword` (a Flowgate extension) sends the Secret's `username` / `password`; `X509Certificate` the
 *   Secret's `tls.crt` / `tls.key`; `ServiceAccountToken` sends the token file as enhanced authentication `K8S-SAT`
 *   (AIO's broker); the managed identities send an Entra token as `OAUTH2-JWT` (Event Grid's MQTT broker) and
 *   need a token source from the caller.
 */
import type { IClientOptions } from 'mqtt'
import { readFileSync } from 'node:fs'
import { resolve, sep } from 'node:path'
import { mqttConfigError } from './errors.js'
import { mqttDefaults } from './options.js'
import type { MqttEndpointSettings, MqttSecrets } from './types.js'

export interface ClientOptionsContext {
  clientId: string
  /** Returns a bearer token for the managed-identity methods (OAUTH2-JWT). */
  getToken?: () => Promise<string>
  /** Reads the service account token (default: `<serviceAccountTokenDir>/<audience>`). */
  readServiceAccountToken?: (audience: string) => string
}

export interface MqttClientSetup {
  url: string
  options: IClientOptions
  /** Enhanced-authentication data to refresh before each (re)connect, when the method uses a token. */
  refreshAuthentication?: () => Promise<Buffer>
}

/**
 * What a ServiceAccountToken audience may be: a file name in the token directory (AIO mounts one token per audience
 * there), starting with a letter or digit, without `..`. The file is sent to the broker the resource names, so an
 * audience like `../../.flowgate/secret.key` would hand any readable file to whoever runs that broker.
 * Kept in step with the schema's pattern (@flowgate/resources, schemas/endpoint.ts).
 */
const AUDIENCE_FILE_NAME = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]*$/

/** `<dir>/<audience>`, refused unless the audience is a plain name and the path stays inside `dir`. */
export function serviceAccountTokenFile (audience: string, dir: string = mqttDefaults.serviceAccountTokenDir): string {
  const refuse = (): never => {
    throw mqttConfigError(`serviceAccountTokenSettings.audience ${JSON.stringify(audience)} must be a plain name (letters, digits, '-', '.', '_'; starting with a letter or digit; no '/' or '..'): it names a token file in ${dir}`)
  }
  if (!AUDIENCE_FILE_NAME.test(audience)) refuse()
  // Belt and braces: whatever the pattern lets through must still land directly inside the directory. Symbolic
  // links are not resolved: Kubernetes mounts each token as a link into `..data/`.
  const root = resolve(dir)
  const file = resolve(root, audience)
  if (!file.startsWith(root + sep) || file.slice(root.length + 1).includes(sep)) refuse()
  return file
}

/** The token mounted for `audience` (trimmed: the file may end with a newline). */
export function readServiceAccountTokenFile (audience: string, dir: string = mqttDefaults.serviceAccountTokenDir): string {
  return readFileSync(serviceAccountTokenFile(audience, dir), 'utf8').trim()
}

/** `host:port` → [host, port]; IPv6 literals in brackets. */
export function parseHostPort (host: string): { hostname: string, port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s/]+):(\d{1,5})$/.exec(host.trim())
  if (!m) throw mqttConfigError(`host "${host}" must be <host>:<port>`)
  const port = Number(m[2])
  if (port < 1 || port > 65535) throw mqttConfigError(`host "${host}" has an invalid port`)
  return { hostname: m[1]!, port }
}

export function mqttClientOptions (settings: MqttEndpointSettings, secrets: MqttSecrets, ctx: ClientOptionsContext): MqttClientSetup {
  const { hostname, port } = parseHostPort(settings.host)
  const tls = (settings.tls?.mode ?? 'Enabled') === 'Enabled'
  const ws = settings.protocol === 'WebSockets'
  const scheme = ws ? (tls ? 'wss' : 'ws') : (tls ? 'mqtts' : 'mqtt')
  const url = `${scheme}://${hostname}:${port}${ws ? '/mqtt' : ''}`
  const options: IClientOptions = {
    protocolVersion: 5,
    clientId: ctx.clientId,
    clean: true,
    keepalive: settings.keepAliveSeconds ?? mqttDefaults.keepAliveSeconds,
    connectTimeout: mqttDefaults.connectTimeoutMs,
    reconnectPeriod: mqttDefaults.reconnectPeriodMs,
    // A publish made while offline fails at once (the caller keeps the Kafka offset and retries); mqtt.js' own
    // offline queue would hide the outage and grow without bound.
    queueQoSZero: false,
    properties: { sessionExpiryInterval: settings.sessionExpirySeconds ?? mqttDefaults.sessionExpirySeconds }
  }
  if (tls) {
    options.rejectUnauthorized = true
    if (secrets.trustedCa) options.ca = secrets.trustedCa
    // SNI for names only (RFC 6066 §3 forbids IP literals).
    if (!/^[\d.]+$|^\[/.test(hostname)) options.servername = hostname
  }

  const auth = settings.authentication ?? { method: 'Anonymous' }
  let refreshAuthentication: MqttClientSetup['refreshAuthentication']
  switch (auth.method) {
    case 'Anonymous':
      break
    case 'UsernamePassword':
      if (!secrets.usernamePassword) throw mqttConfigError(`secret ${auth.usernamePasswordSettings.secretRef} has no username / password`)
      options.username = secrets.usernamePassword.username
      options.password = secrets.usernamePassword.password
      break
    case 'X509Certificate':
      if (!tls) throw mqttConfigError('X509Certificate authentication needs tls.mode Enabled')
      if (!secrets.tls) throw mqttConfigError(`secret ${auth.x509CertificateSettings.secretRef} has no tls.crt / tls.key`)
      options.cert = secrets.tls.cert
      options.key = secrets.tls.key
      break
    case 'ServiceAccountToken': {
      const audience = auth.serviceAccountTokenSettings.audience
      // Checked here too when the caller reads tokens itself: its reader may well join the audience into a path.
      serviceAccountTokenFile(audience)
      const read = ctx.readServiceAccountToken ?? ((a: string) => readServiceAccountTokenFile(a))
      refreshAuthentication = async () => Buffer.from(read(audience))
      options.properties!.authenticationMethod = 'K8S-SAT'
      break
    }
    case 'SystemAssignedManagedIdentity':
    case 'UserAssignedManagedIdentity': {
      const getToken = ctx.getToken
      if (!getToken) throw mqttConfigError(`${auth.method} for MQTT endpoints needs a token source (not available in this build)`)
      refreshAuthentication = async () => Buffer.from(await getToken())
      options.properties!.authenticationMethod = 'OAUTH2-JWT'
      break
    }
    default:
      throw mqttConfigError(`unknown authentication method ${String((auth as { method: unknown }).method)}`)
  }
  return refreshAuthentication ? { url, options, refreshAuthentication } : { url, options }
}
