export { startIngress, type Ingress } from './ingress.js'
export { ingressDefaults, type IngressOptions } from './options.js'
export { IngressError } from './errors.js'
export { isLoopbackHost } from './loopback.js'
