// What other packages use; the package's own tests import the modules they test.
export { adminPlugin } from './plugin.js'
export { openAdminState } from './state.js'
export { startAdmin, type Admin } from './start.js'
export { startStandaloneAdmin } from './standalone.js'
export { createTailHub, tailObserver, keyOf, matchesFilter, type TailEvent, type TailFilter, type TailHub, type TailKey } from './tail/index.js'
