/**
 * The publish router: device publishes from the embedded broker (or an MQTT client, in the split deployment) go to
 * the MQTT → Kafka flows whose filters match. This is the hot path of every publish: an array walk, nothing more.
 */
import type { MqttToKafkaFlow, OutcomeListener, PublishOutcome } from './mqtt-to-kafka-flow.js'
import type { InboundMqttMessage } from './ports.js'

/** Where device publishes come from: the embedded broker in process (or an MQTT client, in the split deployment). */
export interface PublishSource {
  /** The interceptor returns true when a flow took the publish; `ack` is then settled once with the outcome. */
  setInterceptor: (interceptor: ((publish: { packet: { topic: string, payload: Buffer | string, qos: number, retain?: boolean, properties?: Record<string, unknown> }, receivedAt: number }, ack: OutcomeListener) => boolean) | undefined) => void
}

export interface PublishRouter {
  /** The flows device publishes go to from now on (the reconciler's embedded MQTT → Kafka flows). */
  setFlows: (flows: MqttToKafkaFlow[]) => void
  /** Removes the interceptor: publishes then find no flow here. Only once every flow is closed (see runtime.ts). */
  detach: () => void
}

/** Sets `source`'s interceptor at once; until `setFlows`, no publish is taken. */
export function createPublishRouter (source: PublishSource): PublishRouter {
  /** The flows device publishes go to, as an array: every publish walks it. Replaced whole, never edited in place. */
  let flows: MqttToKafkaFlow[] = []

  source.setInterceptor(({ packet, receivedAt }, ack) => {
    const message: InboundMqttMessage = {
      topic: packet.topic,
      payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
      qos: packet.qos as 0 | 1 | 2,
      retain: packet.retain ?? false,
      properties: packet.properties,
      receivedAt
    }
    let taker: MqttToKafkaFlow | undefined
    let others: MqttToKafkaFlow[] | undefined
    for (const flow of flows) {
      if (!flow.matches(message.topic)) continue
      if (taker === undefined) taker = flow
      else (others ??= []).push(flow)
    }
    if (taker === undefined) return false
    if (others === undefined) { taker.offer(message, ack); return true }
    // Several dataflows take this publish: the device hears once all have settled, of the first failure.
    const all = [taker, ...others]
    const joined = joinOutcomes(all.length, ack)
    for (const flow of all) flow.offer(message, joined)
    return true
  })

  return {
    setFlows (next) { flows = next },
    detach () {
      source.setInterceptor(undefined)
      flows = []
    }
  }
}

/**
 * One listener for `count` outcomes: settles `ack` once all are in, with the first failure (or success). Left
 * unacknowledged by any flow wins over everything: the device must resend (the others then see a duplicate).
 */
function joinOutcomes (count: number, ack: OutcomeListener): OutcomeListener {
  let left = count
  let failure: PublishOutcome | undefined
  return {
    settle (outcome) {
      if (outcome.unacknowledged === true) failure = outcome
      else if (failure === undefined && outcome.reasonCode !== undefined) failure = outcome
      if (--left === 0) ack.settle(failure ?? {})
    }
  }
}
