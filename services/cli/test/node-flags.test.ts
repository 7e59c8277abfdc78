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
