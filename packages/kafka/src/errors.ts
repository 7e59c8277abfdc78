/** Stable error codes of @flowgate/kafka; callers (and tests) act on `code` and `permanent`, never on texts. */
export type KafkaErrorCode =
  | 'FG_ERR_KAFKA_TOO_LARGE'
  | 'FG_ERR_KAFKA_NOT_AUTHORIZED'
  | 'FG_ERR_KAFKA_TOPIC_MISSING'
  | 'FG_ERR_KAFKA_AUTH_FAILED'
  | 'FG_ERR_KAFKA_UNREACHABLE'
  | 'FG_ERR_KAFKA_REJECTED'
  | 'FG_ERR_KAFKA_RETRIABLE'
  | 'FG_ERR_KAFKA_CONFIG'
  | 'FG_ERR_KAFKA_CLOSED'

export interface KafkaErrorClass { code: KafkaErrorCode, permanent: boolean, reason: string }

export class KafkaEndpointError extends Error {
  readonly code: KafkaErrorCode
  /** A permanent error fails the same record again on retry: drop or dead-letter it, don't buffer it. */
  readonly permanent: boolean
  readonly reason: string

  constructor (c: KafkaErrorClass, options?: { cause?: unknown }) {
    super(`${c.code}: ${c.reason}`, options)
    this.name = 'KafkaEndpointError'
    this.code = c.code
    this.permanent = c.permanent
    this.reason = c.reason
  }
}

export function configError (reason: string): KafkaEndpointError {
  return new KafkaEndpointError({ code: 'FG_ERR_KAFKA_CONFIG', permanent: true, reason })
}

interface ErrorLike { name?: string, type?: string, code?: string | number, message?: string, retriable?: boolean, cause?: unknown, originalError?: unknown }

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'])
const NOT_AUTHORIZED = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])
// The idempotent producer's own state went out of step with the broker (a lost response, a restarted broker): a new
// producer id fixes it. Retried with a fresh producer — a duplicate is acceptable, a gap is not.
const PRODUCER_STATE = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING', 'PRODUCER_FENCED'])
const AUTH_FAILED = new Set(['SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM'])
// Node's TLS verification failures: the broker is reachable but we refuse it (or it refuses our certificate).
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_)/
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])
const AZURE_IDENTITY = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError'])

/** The chain of causes kafkajs builds (retries exceeded → the last attempt's error → …), outermost first. */
function chain (err: unknown): ErrorLike[] {
  const out: ErrorLike[] = []
  let e: unknown = err
  while (e != null && typeof e === 'object' && out.length < 8) {
    const el = e as ErrorLike
    if (out.includes(el)) break
    out.push(el)
    e = el.cause ?? el.originalError
  }
  return out
}

/** Maps anything kafkajs, Node's sockets/TLS or @azure/identity throws to a stable code and whether to retry. */
export function classifyKafkaError (err: unknown): KafkaErrorClass {
  if (err instanceof KafkaEndpointError) return { code: err.code, permanent: err.permanent, reason: err.reason }
  const errors = chain(err)
  const reason = (errors.at(-1)?.message ?? String(err)).slice(0, 500)
  for (const e of errors) {
    const type = e.type ?? ''
    const code = typeof e.code === 'string' ? e.code : ''
    if (TOO_LARGE.has(type)) return { code: 'FG_ERR_KAFKA_TOO_LARGE', permanent: true, reason }
    if (PRODUCER_STATE.has(type)) return { code: 'FG_ERR_KAFKA_RETRIABLE', permanent: false, reason }
    if (NOT_AUTHORIZED.has(type)) return { code: 'FG_ERR_KAFKA_NOT_AUTHORIZED', permanent: true, reason }
    if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return { code: 'FG_ERR_KAFKA_TOPIC_MISSING', permanent: true, reason }
    if (AUTH_FAILED.has(type) || e.name === 'KafkaJSSASLAuthenticationError' || AZURE_IDENTITY.has(e.name ?? '')) {
      return { code: 'FG_ERR_KAFKA_AUTH_FAILED', permanent: true, reason }
    }
    if (TLS_CODES.test(code) || /certificate|ssl|tls alert/i.test(e.message ?? '')) {
      return { code: 'FG_ERR_KAFKA_AUTH_FAILED', permanent: true, reason }
    }
  }
  for (const e of errors) {
    const code = typeof e.code === 'string' ? e.code : ''
    if (NETWORK_CODES.has(code) || ['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSBrokerNotFound', 'KafkaJSRequestTimeoutError'].includes(e.name ?? '')) {
      return { code: 'FG_ERR_KAFKA_UNREACHABLE', permanent: false, reason }
    }
  }
  // A protocol error the broker says will fail again (INVALID_RECORD, UNSUPPORTED_COMPRESSION_TYPE on Event Hubs, …).
  const protocol = errors.find((e) => e.name === 'KafkaJSProtocolError')
  if (protocol?.retriable === false) return { code: 'FG_ERR_KAFKA_REJECTED', permanent: true, reason }
  return { code: 'FG_ERR_KAFKA_RETRIABLE', permanent: false, reason }
}

export function toKafkaEndpointError (err: unknown): KafkaEndpointError {
  return err instanceof KafkaEndpointError ? err : new KafkaEndpointError(classifyKafkaError(err), { cause: err })
}
