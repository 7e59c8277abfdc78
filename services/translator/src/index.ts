// What other packages use; the package's own tests import the modules they test.
export { startTranslator } from './translator.js'
export { createFetchHandler } from './fetch-handler.js'
export { translatorRoutes } from './routes.js'
