#!/usr/bin/env node
// Flowgate runs its TypeScript sources directly through tsx: no build step between a clone and `flowgate start`.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/main.ts')
process.exitCode = await main(process.argv.slice(2))
