/** Live-tail options and their defaults in one place (DESIGN §3, `GET /api/v1/tail`). */
export const tailDefaults = {
  /** Frames a reader may have waiting before new ones are dropped for it (and counted in the next frame's `dropped`). */
  maxQueue: 1000,
  /** Payload bytes a frame carries unless the client asks otherwise (`maxPayload`); longer payloads are cut. */
  maxPayload: 4096,
  /** The most a client may ask for: a frame stays a frame, not a file transfer. */
  maxPayloadLimit: 1024 * 1024,
  /** A browser cannot set headers on a WebSocket, so it sends `{"type":"auth","token":…}` first, within this. */
  authTimeoutMs: 5000,
  /** Bytes the socket may hold unsent before the pump stops and lets the reader's queue (and drops) take over. */
  socketHighWater: 256 * 1024
} as const

/** WebSocket close codes the tail uses (4000–4999 are the application's own, RFC 6455 §7.4.2). */
export const TAIL_CLOSE = {
  /** No token, or a wrong one (HTTP 401's twin). */
  unauthorized: 4401,
  /** A bad query parameter (HTTP 400's twin). */
  badRequest: 4400
} as const
