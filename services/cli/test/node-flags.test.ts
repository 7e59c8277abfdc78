import t from 'tap'
import { readFileSync } from 'node:fs'
import { gatewayNodeFlags } from '../src/node-flags.js'

// The README's first command runs `pnpm start`: the flags the benches measured must be the ones users get.
t.test('package.json runs flowgate with the gateway node flags', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }
  const node = `node ${gatewayNodeFlags.join(' ')} services/cli/bin/flowgate.mjs`
  t.equal(pkg.scripts.start, `${node} start`)
  t.equal(pkg.scripts.flowgate, node)
})

/** The helper-thread time V8's GC trace (`--trace-gc-nvp`) reports for each of these scavenges, where not zero. */
const helperThreadTimes = (scavenges: string[]): string[] =>
  scavenges.map((l) => /background\.scavenge\.parallel=([\d.]+)/.exec(l)?.[1] ?? '?').filter((ms) => ms !== '0.00')

t.test('runtime V8 flags: applied unless node was given the opposite explicitly', async (t) => {
  const { runtimeV8Flags, applyRuntimeV8Flags } = await import('../src/node-flags.js')
  t.same(applyRuntimeV8Flags(['--parallel-scavenge', '--allocation-site-pretenuring']), [], 'flags named to node win')
  t.same(applyRuntimeV8Flags(['--parallel-scavenge']), ['--no-allocation-site-pretenuring'], 'one at a time')
  t.same(applyRuntimeV8Flags([]), runtimeV8Flags)
})

// What the flag is for: no helper thread works on a scavenge. V8's GC trace reports their time per scavenge.
t.test('after applyRuntimeV8Flags, scavenges run on the main thread alone', async (t) => {
  const { execFileSync } = await import('node:child_process')
  const flags = new URL('../src/node-flags.ts', import.meta.url).href
  const script = `const { applyRuntimeV8Flags } = await import(${JSON.stringify(flags)}); applyRuntimeV8Flags(); console.log('applied')
    let keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 100000) keep = [] }`
  const trace = execFileSync(process.execPath, ['--trace-gc-nvp', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
  // Loading tsx and the module scavenged before the flag was set: only what follows counts.
  const scavenges = trace.slice(trace.indexOf('applied\n')).split('\n').filter((l) => l.includes(' gc=s '))
  t.ok(scavenges.length > 3, `${scavenges.length} scavenges traced`)
  t.same(helperThreadTimes(scavenges), [], 'no helper-thread time')
})

// The wiring: `flowgate start` sets them before it loads the gateway, however node was started (here without them).
t.test('flowgate start runs its scavenges on the main thread alone', async (t) => {
  const { spawn } = await import('node:child_process')
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dataDir = mkdtempSync(join(tmpdir(), 'flowgate-node-flags-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const bin = new URL('../bin/flowgate.mjs', import.meta.url).pathname
  const child = spawn(process.execPath, ['--trace-gc-nvp', '--max-semi-space-size=1', bin, 'start', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'info'], {
    env: { ...process.env, FLOWGATE_ADMIN_TOKEN: 'node-flags-test-token-0123456789' }, stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  const http = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`flowgate start exited ${code}: ${out.slice(-2000)}`)))
    const poll = setInterval(() => {
      const m = /"http":"(http:\/\/[^"]+)"/.exec(out)
      if (m) { clearInterval(poll); resolve(m[1]!) }
    }, 50)
  })
  const listening = out.length
  // Some allocation after start-up (a 1 MB young generation fills fast), so scavenges happen while it serves.
  for (let i = 0; i < 200; i++) await (await fetch(`${http}/metrics`)).text()
  const scavenges = out.slice(listening).split('\n').filter((l) => l.includes(' gc=s '))
  t.ok(scavenges.length >= 1, `${scavenges.length} scavenges while serving`)
  t.same(helperThreadTimes(scavenges), [], 'no helper-thread time')
})
