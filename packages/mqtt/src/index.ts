// What other packages use; the package's own tests import the modules they test.
export { topicMatches, compileTopicFilter, topicFilterProblem } from './topic-filter.js'
export type { MqttEndpointSettings, MqttSecrets, OutboundPublish, MqttPublisher } from './types.js'
export { MqttEndpointError, mqttConfigError } from './errors.js'
export { mqttDefaults } from './options.js'
export { mqttClientOptions, type MqttClientSetup } from './client-options.js'
export { connectExternalPublisher } from './external-client.js'
export { subscribeOverNetwork, type ReceivedMessage } from './network-subscriber.js'
export { embeddedPublisher, EMBEDDED_WINDOW, type EmbeddedBroker, type EmbeddedPacket } from './embedded-publisher.js'
