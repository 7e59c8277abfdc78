// Free loopback ports, found by binding port 0. All sockets are held open until every port is known, so the same
// port is never handed out twice; another process could still take one before Kafka binds it (a rare race the
// start-up reports as "the broker exited" with the bind error in server.log).
import { createServer } from 'node:net'

export async function freePorts (count, host = '127.0.0.1') {
  const servers = []
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen({ port: 0, host, exclusive: true }, resolve)
      })
    }
    return servers.map((s) => s.address().port)
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))))
  }
}
