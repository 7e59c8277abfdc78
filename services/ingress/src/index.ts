// What other packages use; the package's own tests import the modules they test.
export { startIngress } from './ingress.js'
export { startStandaloneIngress } from './standalone.js'
export { hashPassword, parsePasswordHash, verifyPassword } from './access/authn/password-hash.js'
export { storeAccessSource, type AccessSource } from './access/source.js'
export type { BrokerLimits } from './access/limits.js'
