export { rig, rigFile, type RigInfo } from './rig.js'
export { kafkaConfig, createTopic, readRecords, uniqueTopic, type Listener, type ReadRecord } from './kafka.js'
export { kcatArgs, kcatConsume, type KcatRecord } from './kcat.js'
export { nextMessage, collectMessages, type Received } from './mqtt.js'
