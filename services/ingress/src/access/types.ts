import type { X509Certificate } from 'node:crypto'

/**
 * Who a connected device is once authentication passed: what BrokerAuthorization rules match on
 * (`principals.clientIds`, `usernames`, `attributes`) and substitute (`{principal.clientId}`, `{principal.username}`,
 * `{principal.attributes.NAME}`).
 */
export interface Principal {
  clientId: string
  username?: string
  attributes: Readonly<Record<string, string>>
}

/** Everything a device presented: the CONNECT's fields and, on a TLS port, its certificate chain. */
export interface Credentials {
  clientId: string
  /** 3, 4 (3.1.1) or 5. */
  protocolVersion: number
  username?: string
  password?: Buffer
  /** MQTT 5 enhanced authentication (CONNECT properties). */
  authenticationMethod?: string
  authenticationData?: Buffer
  /** Present when the device sent a certificate during the TLS handshake. */
  certificate?: PresentedCertificate
}

export interface PresentedCertificate {
  /** Leaf first, then the intermediates and the root as the handshake built the chain. */
  chain: readonly X509Certificate[]
  /** The TLS layer verified the chain against the port's trusted client CAs. */
  verified: boolean
  /** OpenSSL's reason when not verified: `CERT_HAS_EXPIRED`, `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, … */
  verifyError?: string
}

/** MQTT 5 CONNACK / DISCONNECT reason codes the access layer answers with (§3.2.2.2). */
export const ReasonCode = {
  BAD_USERNAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  BAD_AUTHENTICATION_METHOD: 0x8c,
  QUOTA_EXCEEDED: 0x97
} as const

/**
 * One authentication method's answer, following AIO's flow: a method first decides whether the credentials are
 * *relevant* to it (a certificate for X509, `K8S-SAT` for ServiceAccountToken); irrelevant ones go to the next
 * method. Relevant credentials pass or fail, and that ends the flow.
 */
export type AuthnOutcome =
  | { kind: 'pass', principal: Principal, /** Epoch ms after which the credentials must be checked again. */ expiresAt?: number }
  | { kind: 'fail', reasonCode: number, /** For the log, never for the device: says which check failed. */ message: string }
  | { kind: 'irrelevant', /** For the log: why a method that could have applied stood aside (a server it could not reach). */ message?: string }

export interface AuthenticationMethod {
  /** `X509`, `Custom`, … as the BrokerAuthentication names it. */
  readonly method: string
  authenticate: (credentials: Credentials, signal?: AbortSignal) => Promise<AuthnOutcome>
  /** Releases sockets and timers (an HTTP agent, a JWKS cache). */
  close?: () => Promise<void>
}
