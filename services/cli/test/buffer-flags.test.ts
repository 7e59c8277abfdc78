import t from 'tap'
import { bufferFlags } from '../src/buffer-flags.js'

t.test('--buffer-messages and --buffer-bytes (or their FLOWGATE_* twins) set each dataflow\'s buffer', async (t) => {
  t.same(bufferFlags({}, {}), {}, 'unset: the runtime\'s defaults')
  t.same(bufferFlags({ 'buffer-messages': '500' }, { FLOWGATE_BUFFER_BYTES: '1048576' }), { bufferMessages: 500, bufferBytes: 1_048_576 })
})

t.test('a value that is not a positive integer is refused naming the flag', async (t) => {
  for (const bad of ['0', '-5', '1.5', 'lots', '']) {
    t.throws(() => bufferFlags({ 'buffer-bytes': bad }, {}), { code: 'FG_ERR_CLI_BAD_FLAG', message: `--buffer-bytes ${JSON.stringify(bad)}: expected a positive integer` }, bad)
  }
})
