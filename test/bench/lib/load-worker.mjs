// Worker threads do not inherit `--import tsx`'s loader: register it here, then run the TypeScript worker.
import { register } from 'tsx/esm/api'

register()
await import('./load-worker.ts')
