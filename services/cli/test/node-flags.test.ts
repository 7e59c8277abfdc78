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
  t.same(scavenges.map((l) => /background\.scavenge\.parallel=([\d.]+)/.exec(l)?.[1]).filter((ms) => ms !== '0.00'), [], 'no helper-thread time')
})
