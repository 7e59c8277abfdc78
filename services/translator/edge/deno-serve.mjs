// Deno serving the edge bundle (the same module workerd runs) with Deno.serve, loopback by default:
//   deno run --no-remote --no-npm --allow-net=127.0.0.1 --allow-env=FLOWGATE_TRANSLATOR_BODY_LIMIT,FLOWGATE_TRANSLATOR_MAX_MESSAGES \
//     edge/dist/deno-serve.mjs [--port 8787] [--hostname 127.0.0.1]
// Prints one JSON line {"listening":"http://host:port"} once it listens (port 0 picks a free one).
/* global Deno */
import worker from './translator.mjs'

const arg = (name, fallback) => {
  const at = Deno.args.indexOf(`--${name}`)
  return at >= 0 && Deno.args[at + 1] !== undefined ? Deno.args[at + 1] : fallback
}
const env = {}
for (const name of ['FLOWGATE_TRANSLATOR_BODY_LIMIT', 'FLOWGATE_TRANSLATOR_MAX_MESSAGES']) {
  const value = Deno.env.get(name)
  if (value !== undefined) env[name] = value
}
Deno.serve({
  port: Number(arg('port', '8787')),
  hostname: arg('hostname', '127.0.0.1'),
  onListen: ({ hostname, port }) => console.log(JSON.stringify({ listening: `http://${hostname}:${port}` }))
}, (request) => worker.fetch(request, env))
