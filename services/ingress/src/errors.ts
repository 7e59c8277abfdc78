/** Errors the ingress raises, each with a stable code. Callers and tests match on `code`, never on text. */
export class IngressError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = 'IngressError'
    this.code = code
  }
}

export const FG_ERR_INGRESS_OPEN_BIND = (host: string): IngressError => new IngressError(
  'FG_ERR_INGRESS_OPEN_BIND',
  `refusing to listen on ${host} without device authentication: anyone who can reach it could publish and ` +
  'subscribe to every topic. Bind to 127.0.0.1 (--host 127.0.0.1) or configure device authentication.'
)

export const FG_ERR_INGRESS_PORT_IN_USE = (host: string, port: number): IngressError => new IngressError(
  'FG_ERR_INGRESS_PORT_IN_USE',
  `MQTT port ${host}:${port} is already in use; choose another with --mqtt-port`
)

export const FG_ERR_INGRESS_SHARED_EMITTER = (): IngressError => new IngressError(
  'FG_ERR_INGRESS_SHARED_EMITTER',
  'a shared emitter needs the Redis session persistence: processes that share live messages must share sessions too'
)
