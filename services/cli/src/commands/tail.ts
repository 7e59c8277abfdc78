import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { CliError } from '../errors.js'
import { flagOrEnv } from '../flags.js'
import { clientFlags, DEFAULT_SERVER } from '../http-client.js'

export const tailUsage = `flowgate tail [DATAFLOW] [-n NAMESPACE] [--topic FILTER] [--direction mqtt-to-kafka|kafka-to-mqtt]
              [--max-payload BYTES] [-o text|json] [--server URL] [--token T]
  Follows messages as they pass through dataflows, one line each (time, dataflow, source → destination, payload),
  or the raw frames as JSON lines with -o json. A slow terminal loses lines, never slows a dataflow: the line after
  a gap says how many were dropped. Ctrl-C stops.`

type Frame = Record<string, any>

/** One readable line: `12:00:01.234 ns/df  factory/l1 → telemetry[2] key=k  {"t":21}  (+5 dropped)`. */
export function formatFrame (f: Frame, previewChars = 120): string {
  const time = typeof f.ts === 'string' ? f.ts.slice(11, 23) : '?'
  const dst = f.destination ?? {}
  const where = `${f.source?.topic ?? '?'} → ${dst.topic ?? '?'}${dst.partition !== undefined ? `[${dst.partition}]` : ''}`
  const key = dst.key ?? f.source?.key
  const p = f.payload ?? {}
  let preview = p.encoding === 'base64' ? `base64:${p.data}` : String(p.data ?? '')
  preview = preview.replace(/\s+/g, ' ')
  if (preview.length > previewChars) preview = preview.slice(0, previewChars - 1) + '…'
  else if (p.truncated === true) preview += '…'
  return [
    time,
    `${f.namespace}/${f.dataflow}`,
    where + (key !== undefined ? ` key=${key}` : ''),
    preview,
    ...(f.dropped !== undefined ? [`(+${f.dropped} dropped)`] : [])
  ].join('  ')
}

function token (values: Record<string, unknown>, env: NodeJS.ProcessEnv): string | undefined {
  if (typeof values.token === 'string') return values.token
  if (env.FLOWGATE_ADMIN_TOKEN !== undefined) return env.FLOWGATE_ADMIN_TOKEN
  try {
    return readFileSync(join(env.FLOWGATE_DATA_DIR ?? join(process.cwd(), '.flowgate'), 'admin-token'), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

export async function tail (argv: string[], env: NodeJS.ProcessEnv = process.env, out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...clientFlags,
      topic: { type: 'string' },
      direction: { type: 'string' },
      'max-payload': { type: 'string' },
      output: { type: 'string', short: 'o' }
    },
    allowPositionals: true,
    strict: true
  })
  const output = values.output ?? 'text'
  if (output !== 'text' && output !== 'json') throw new CliError('FG_ERR_CLI_BAD_FLAG', `-o ${output}: expected text or json`, 2)
  if (positionals.length > 1) throw new CliError('FG_ERR_CLI_USAGE', 'tail takes at most one DATAFLOW', 2)
  const server = (flagOrEnv(values, 'server', env) ?? DEFAULT_SERVER).replace(/\/+$/, '')
  const query = new URLSearchParams()
  if (positionals[0] !== undefined) query.set('dataflow', positionals[0])
  if (values.namespace !== undefined) query.set('namespace', values.namespace)
  if (values.topic !== undefined) query.set('topic', values.topic)
  if (values.direction !== undefined) query.set('direction', values.direction)
  if (values['max-payload'] !== undefined) query.set('maxPayload', values['max-payload'])
  const url = `${server.replace(/^http/, 'ws')}/api/v1/tail${query.size > 0 ? `?${query}` : ''}`
  const t = token(values, env)

  const ws = new WebSocket(url, { headers: t !== undefined ? { authorization: `Bearer ${t}` } : {} })
  const stop = (): void => ws.close(1000)
  process.once('SIGINT', stop)
  signal?.addEventListener('abort', stop, { once: true })
  return await new Promise<number>((resolve, reject) => {
    ws.on('message', (data) => {
      const text = String(data)
      if (output === 'json') { out(text); return }
      try { out(formatFrame(JSON.parse(text))) } catch { out(text) }
    })
    ws.on('error', (err: Error & { code?: string }) => {
      reject(new CliError('FG_ERR_CLI_CONNECT', `cannot reach the tail at ${url}: ${err.code ?? err.message}`, 1))
    })
    ws.on('close', (code, reason) => {
      process.removeListener('SIGINT', stop)
      if (code === 1000 || code === 1005) resolve(0)
      else if (code === 4401) reject(new CliError('FG_ERR_UNAUTHORIZED', `the admin API refused the token: ${reason}`, 1))
      else if (code === 4400) reject(new CliError('FG_ERR_CLI_BAD_FLAG', String(reason), 2))
      else reject(new CliError('FG_ERR_CLI_CONNECT', `the tail closed (${code}${reason.length > 0 ? `: ${reason}` : ''})`, 1))
    })
  })
}
