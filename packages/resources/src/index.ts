// What other packages use; the package's own tests import the modules they test.
export { DEFAULT_NAMESPACE, KINDS, kindInfo, kindByPlural, type KindInfo } from './api.js'
export { schemas } from './schemas/index.js'
export { validate } from './validate.js'
export { parseManifests, type ManifestDocument } from './manifests.js'
export { references, dependencyOrder, checkReferences, type ReferenceProblem, type Lookup } from './references.js'
export { builtinResources } from './builtins.js'
export { ManifestSyntaxError } from './errors.js'
export type { DataflowEndpoint, Dataflow, DataflowProfile, Secret, ConfigMap, BrokerListener, BrokerAuthentication, BrokerAuthorization, ListenerPort, AuthenticationMethod, AuthorizationRule } from './types.js'
