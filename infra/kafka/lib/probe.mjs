// Readiness checks spoken in Kafka's own wire protocol with node:net, so waiting costs milliseconds rather than a
// JVM launch per try. "Ready" means what clients need: right after a start, __consumer_offsets does not exist yet
// (FindCoordinator answers COORDINATOR_NOT_AVAILABLE, and creates it) and then loads (OffsetFetch answers
// COORDINATOR_LOAD_IN_PROGRESS); kafkajs surfaces both as errors. The rig reports ready only once a group
// coordinator has answered an OffsetFetch without error.
// Message layouts: https://kafka.apache.org/protocol#protocol_messages (non-flexible versions, request header v1).
import { connect } from 'node:net'

const API_FIND_COORDINATOR = 10
const API_OFFSET_FETCH = 9

/** Whether something accepts TCP connections on host:port. */
export function portAnswers (hostPort, timeoutMs = 1000) {
  const [host, port] = splitHostPort(hostPort)
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok) => { socket.destroy(); resolve(ok) }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

function splitHostPort (hostPort) {
  const i = hostPort.lastIndexOf(':')
  return [hostPort.slice(0, i), Number(hostPort.slice(i + 1))]
}

const str = (s) => {
  const b = Buffer.from(s, 'utf8')
  const len = Buffer.alloc(2)
  len.writeInt16BE(b.length)
  return Buffer.concat([len, b])
}
const int8 = (n) => Buffer.from([n])
const int32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b }

/** One request/response on a fresh connection; resolves with the response body (after the correlation id). */
function request (hostPort, apiKey, apiVersion, body, timeoutMs = 3000) {
  const [host, port] = splitHostPort(hostPort)
  const header = Buffer.alloc(8)
  header.writeInt16BE(apiKey, 0)
  header.writeInt16BE(apiVersion, 2)
  header.writeInt32BE(1, 4) // correlation id
  const payload = Buffer.concat([header, str('flowgate-rig-probe'), body])
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let got = Buffer.alloc(0)
    const fail = (err) => { socket.destroy(); reject(err) }
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer from ${hostPort} within ${timeoutMs} ms`)))
    socket.once('error', fail)
    socket.once('close', () => reject(new Error(`${hostPort} closed the connection`)))
    socket.once('connect', () => socket.write(Buffer.concat([int32(payload.length), payload])))
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk])
      if (got.length < 4 || got.length < 4 + got.readInt32BE(0)) return
      socket.destroy()
      resolve(got.subarray(8, 4 + got.readInt32BE(0)))
    })
  })
}

/** FindCoordinator v1 for a group: `{ error, host, port }` (error 0 when a coordinator is known). */
export async function findCoordinator (bootstrap, group) {
  const r = await request(bootstrap, API_FIND_COORDINATOR, 1, Buffer.concat([str(group), int8(0)]))
  // throttle_time_ms int32, error_code int16, error_message nullable string, node_id int32, host string, port int32
  const error = r.readInt16BE(4)
  let at = 6
  const messageLength = r.readInt16BE(at)
  at += 2 + Math.max(messageLength, 0)
  at += 4 // node_id
  const hostLength = r.readInt16BE(at)
  const host = r.toString('utf8', at + 2, at + 2 + hostLength)
  const port = r.readInt32BE(at + 2 + hostLength)
  return { error, host, port }
}

/** OffsetFetch v2 for all partitions of a group at its coordinator: the top-level error code. */
export async function offsetFetchError (coordinator, group) {
  const r = await request(coordinator, API_OFFSET_FETCH, 2, Buffer.concat([str(group), int32(-1)]))
  // topics array (empty for a group without offsets), then error_code int16
  const topics = r.readInt32BE(0)
  if (topics !== 0) return 0 // a group with committed offsets: its coordinator has loaded them
  return r.readInt16BE(4)
}

const errorNames = { 14: 'COORDINATOR_LOAD_IN_PROGRESS', 15: 'COORDINATOR_NOT_AVAILABLE', 16: 'NOT_COORDINATOR' }

/**
 * One readiness check. Resolves `{ ready: true }` or `{ ready: false, waitingFor }` describing the step still
 * pending; never rejects.
 */
export async function probeOnce (listeners, group = 'flowgate-rig-ready') {
  for (const [name, hostPort] of Object.entries(listeners)) {
    if (!await portAnswers(hostPort)) return { ready: false, waitingFor: `the ${name} listener on ${hostPort}` }
  }
  try {
    const c = await findCoordinator(listeners.plaintext, group)
    if (c.error !== 0) return { ready: false, waitingFor: `a group coordinator (FindCoordinator: ${errorNames[c.error] ?? `error ${c.error}`})` }
    const error = await offsetFetchError(`${c.host}:${c.port}`, group)
    if (error !== 0) return { ready: false, waitingFor: `the group coordinator to load (OffsetFetch: ${errorNames[error] ?? `error ${error}`})` }
    return { ready: true }
  } catch (err) {
    return { ready: false, waitingFor: `a group coordinator (${err.message})` }
  }
}
