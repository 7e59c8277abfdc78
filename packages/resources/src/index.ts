export { API_GROUP, BROKER_API_GROUP, BROKER_API_VERSIONS, CONNECTIVITY_API_VERSIONS, DEFAULT_API_VERSION, DEFAULT_NAMESPACE, KINDS, kindInfo, kindByPlural, type KindInfo, type ResourceKind } from './api.js'
export { schemas, dataflowEndpointSchema, dataflowSchema, dataflowProfileSchema, secretSchema, configMapSchema, brokerListenerSchema, brokerAuthenticationSchema, brokerAuthorizationSchema } from './schemas/index.js'
export { AUTHENTICATION_METHODS, BROKER_RESOURCE_METHODS, LISTENER_PROTOCOLS, TLS_MODES } from './schemas/broker.js'
export { COMPRESSIONS, KAFKA_ACKS, KAFKA_AUTH_METHODS, MQTT_AUTH_METHODS, PARTITION_STRATEGIES, SASL_TYPES, CLOUD_EVENT_ATTRIBUTES, ENDPOINT_TYPES } from './schemas/endpoint.js'
export { OPERATION_TYPES } from './schemas/dataflow.js'
export { SECRET_TYPES } from './schemas/core.js'
export { validate } from './validate.js'
export { normaliseBySchema } from './normalise.js'
export { parseManifests, type ManifestDocument, type ParseOptions } from './manifests.js'
export { references, dependencyOrder, checkReferences, type Reference, type ReferenceProblem, type Lookup } from './references.js'
export { builtinResources, BUILTIN_ANNOTATION, type BuiltinOptions } from './builtins.js'
export { ResourceError, ManifestSyntaxError } from './errors.js'
export type {
  Resource, DataflowEndpoint, Dataflow, DataflowProfile, Secret, ConfigMap, KafkaSettings, MqttSettings,
  DataflowOperation, ValidationError, ValidationResult, BrokerListener, BrokerAuthentication, BrokerAuthorization,
  ListenerPort, AuthenticationMethod, AuthorizationRule
} from './types.js'
export { ALLOW_COMPRESSION_ANNOTATION } from './rules.js'
