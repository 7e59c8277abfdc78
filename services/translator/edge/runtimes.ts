/**
 * Starts the edge bundle in the real runtimes from npm, on loopback: Cloudflare's workerd (as an ES module Worker,
 * edge/workerd.capnp) and Deno (Deno.serve, edge/deno-serve.mjs). For the edge tests and the translator bench.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { EdgeBuild } from './build.js'
import type { TranslatorEnv } from './worker.js'

export type EdgeRuntimeName = 'workerd' | 'deno'

export interface EdgeServer {
  runtime: EdgeRuntimeName
  /** Base URL, http://127.0.0.1:PORT */
  url: string
  pid: number
  close: () => Promise<void>
}

const require = createRequire(import.meta.url)
const binaries: Record<EdgeRuntimeName, { pkg: string, bin: string }> = {
  workerd: { pkg: '@cloudflare/workerd-linux-64', bin: 'bin/workerd' },
  deno: { pkg: '@deno/linux-x64-glibc', bin: 'deno' }
}

/** The runtime's binary from npm, or why there is none (the packages are built for Linux x64 only). */
export function runtimeBinary (runtime: EdgeRuntimeName): { path: string } | { missing: string } {
  const { pkg, bin } = binaries[runtime]
  const platform = `${process.platform}-${process.arch}`
  try {
    const path = join(dirname(require.resolve(`${pkg}/package.json`)), bin)
    if (existsSync(path)) return { path }
    return { missing: `${pkg} has no ${bin} (platform ${platform})` }
  } catch {
    return { missing: `${pkg} is not installed: it exists for linux-x64 only, this is ${platform}` }
  }
}

const STARTUP_MS = 15_000

export async function startEdge (runtime: EdgeRuntimeName, build: EdgeBuild, env: TranslatorEnv = {}): Promise<EdgeServer> {
  const bin = runtimeBinary(runtime)
  if ('missing' in bin) throw new Error(bin.missing)
  const vars = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== null)) as Record<string, string>
  return runtime === 'workerd' ? await startWorkerd(bin.path, build, vars) : await startDeno(bin.path, build, vars)
}

async function startWorkerd (bin: string, build: EdgeBuild, vars: Record<string, string>): Promise<EdgeServer> {
  // workerd binds the port itself: pick a free one, and pick again should another process take it meanwhile.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const child = spawn(bin, ['serve', build.workerdConfig, '--socket-addr', `http=127.0.0.1:${port}`], {
      env: { PATH: process.env.PATH ?? '', ...vars },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const url = `http://127.0.0.1:${port}`
    try {
      await until(child, 'workerd', async () => {
        // Any answer from the Worker (its 404 for GET /) means it serves.
        const r = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) })
        await r.arrayBuffer()
        return r.status === 404
      })
      return server('workerd', url, child)
    } catch (err) {
      await stop(child)
      if (attempt >= 3 || !/address already in use|EADDRINUSE/i.test(String(err))) throw err
    }
  }
}

async function startDeno (bin: string, build: EdgeBuild, vars: Record<string, string>): Promise<EdgeServer> {
  // Deno's cache stays in a directory of its own: --no-remote --no-npm, nothing is fetched.
  const denoDir = mkdtempSync(join(tmpdir(), 'flowgate-deno-'))
  const child = spawn(bin, [
    'run', '--no-remote', '--no-npm', '--no-prompt', '--allow-net=127.0.0.1',
    '--allow-env=FLOWGATE_TRANSLATOR_BODY_LIMIT,FLOWGATE_TRANSLATOR_MAX_MESSAGES',
    build.denoServe, '--port', '0', '--hostname', '127.0.0.1'
  ], {
    env: { PATH: process.env.PATH ?? '', DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...vars },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let url: string | undefined
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    url ??= /\{"listening":"(http:\/\/[^"]+)"\}/.exec(out)?.[1]
  })
  try {
    await until(child, 'deno', async () => url !== undefined)
  } catch (err) {
    await stop(child)
    rmSync(denoDir, { recursive: true, force: true })
    throw err
  }
  const s = server('deno', url as unknown as string, child)
  return { ...s, close: async () => { await s.close(); rmSync(denoDir, { recursive: true, force: true }) } }
}

function server (runtime: EdgeRuntimeName, url: string, child: ChildProcess): EdgeServer {
  let closing: Promise<void> | undefined
  return { runtime, url, pid: child.pid ?? -1, close: () => (closing ??= stop(child)) }
}

/** Polls `ready` until true, failing if the process exits first or after STARTUP_MS; the error carries its stderr. */
async function until (child: ChildProcess, name: string, ready: () => Promise<boolean>): Promise<void> {
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  let exited: string | undefined
  child.once('exit', (code, signal) => { exited = `exited (${code ?? signal})` })
  child.once('error', (err) => { exited = `failed to start: ${err.message}` })
  const deadline = Date.now() + STARTUP_MS
  for (;;) {
    if (exited !== undefined) throw new Error(`${name} ${exited} before serving: ${stderr.trim()}`)
    if (Date.now() > deadline) throw new Error(`${name} not serving after ${STARTUP_MS} ms: ${stderr.trim()}`)
    if (await ready().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}
