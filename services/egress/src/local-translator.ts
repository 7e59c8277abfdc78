/**
 * `FlowFactories.mqttToKafkaTranslator` in process: @flowgate/translate called directly, answering at once (the
 * split deployment's remote translator answers over HTTP instead, see remote-translator.ts).
 */
import { translateMqttMessage, userPropertiesFrom, type MqttProperties, type TranslateContext, type TranslateSettings } from '@flowgate/translate'
import type { ResolvedDataflow } from './resolve.js'
import type { InboundMqttMessage, TranslateToKafka, Translation } from './ports.js'

/** mqtt-packet's decoded properties → the translator's shape (user properties as ordered pairs). */
function mqttPropertiesOf (properties: Record<string, unknown> | undefined): MqttProperties | undefined {
  if (!properties) return undefined
  const p = properties as MqttProperties & { userProperties?: Record<string, string | string[]> }
  return { ...p, userProperties: userPropertiesFrom(p.userProperties) }
}

export function localTranslator (dataflow: ResolvedDataflow, ctx: { instanceId: number }): TranslateToKafka {
  const settings = dataflow.destination.spec.kafkaSettings as TranslateSettings
  // One context per dataflow, its clock set per message: translation is synchronous, and this runs for every publish.
  const context: TranslateContext = { now: 0, instanceId: ctx.instanceId, dataflow: dataflow.name, destinationTopic: dataflow.destination.dataDestination, targetName: dataflow.destination.name }
  return (message: InboundMqttMessage, now: number): Translation => {
    context.now = now
    return translateMqttMessage({
      topic: message.topic,
      payload: message.payload,
      qos: message.qos,
      retain: message.retain,
      properties: mqttPropertiesOf(message.properties),
      receivedAt: message.receivedAt
    }, settings, context)
  }
}
