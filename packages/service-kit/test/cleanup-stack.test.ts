import t from 'tap'
import { cleanupStack } from '../src/cleanup-stack.js'

t.test('closes in reverse order of opening, each once, and a failing part does not stop the rest', async (t) => {
  const warnings: Array<{ o: object, msg: string }> = []
  const stack = cleanupStack({ warn: (o: object, msg: string) => { warnings.push({ o, msg }) } } as never)
  const closed: string[] = []
  stack.push(async () => { closed.push('store') })
  stack.push(async () => { throw new Error('broker stuck') })
  stack.push(() => { closed.push('http') })
  await stack.close()
  t.same(closed, ['http', 'store'])
  t.same(warnings, [{ o: { err: 'broker stuck' }, msg: 'error while closing' }])
  await stack.close()
  t.same(closed, ['http', 'store'], 'a second close closes nothing again')
})

t.test('a second caller waits for the close in progress', async (t) => {
  const stack = cleanupStack({ warn () {} })
  let release!: () => void
  let done = false
  stack.push(() => new Promise<void>((resolve) => { release = resolve }).then(() => { done = true }))
  const first = stack.close()
  const second = stack.close()
  release()
  await second
  t.ok(done, 'the second close resolved only after the part closed')
  await first
})
