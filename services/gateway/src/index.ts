// What other packages use; the package's own tests import the modules they test.
export { startGateway } from './gateway.js'
// `flowgate start --workers N`'s primary imports '@flowgate/gateway/workers' alone: it supervises, and does not load
// the broker, the Kafka clients and the admin API it never runs.
