import type { Socket } from 'node:net'

/**
 * Ends a connection as a network fault would: with an RST, unless a FIN is already queued on it. libuv refuses a
 * reset while a shutdown is pending (`uv_tcp_close_reset` → EINVAL), and Node (20.20 here) then leaves the handle open
 * but marked closing: the socket's 'error' is all anyone sees, and the process spins at 100 % of a core in its exit
 * cleanup, never ending (seen as a test file killed by the runner's timeout long after its tests passed).
 */
export function abortSocket (socket: Socket): void {
  if (socket.destroyed) return
  if (socket.writableEnded) socket.destroy()
  else socket.resetAndDestroy()
}
