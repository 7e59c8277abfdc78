export { main } from './main.js'
export { CliError } from './errors.js'
