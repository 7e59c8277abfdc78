export { startGateway, type Gateway } from './gateway.js'
export { gatewayDefaults, type GatewayOptions } from './options.js'
