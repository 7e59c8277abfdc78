/**
 * The record key and partition for each `partitionStrategy` (seed "Partition handling strategy"; DESIGN §6).
 *
 * - `Default`: no key, no partition: the producer spreads records round-robin.
 * - `Topic`: key = the MQTT source topic (UTF-8).
 * - `Property`: key = the value of the first MQTT user property named `partitionKeyProperty`. When no user property
 *   has that name and the name is a built-in's header name ("Content Type", "Response Topic", "Correlation Data",
 *   "Payload Format Indicator"), the key is that built-in's header value — the bytes a Kafka reader sees under that
 *   name. "Message Expiry Interval" is not a key: it shrinks while a message waits, so it would scatter a stream.
 *   No such property: `Default` (a missing property falls back to round-robin, DESIGN §6).
 * - `Static`: partition = `instanceId mod partitionCount`.
 *
 * Where the partition count is known (`context.partitions(topic)`), the partition is decided here — for a key with
 * the Java client's murmur2 (`javaCompatiblePartition`), so it is the same whatever partitioner the producer is
 * configured with. Where it is not known, a keyed record leaves `partition` unset for the producer's Java-compatible
 * partitioner, and `Static` returns `staticPartitionOf: instanceId`: the producer sends to
 * `staticPartitionOf mod partitionCount` once it knows the count (`staticPartition`).
 */
import { builtInHeaderValue } from './mqtt-properties-to-headers.js'
import { javaCompatiblePartition } from './murmur2.js'
import type { MqttProperties, PartitionStrategy, UserProperties } from './types.js'
import { utf8Encode } from './utf8.js'

export interface PartitionDecision {
  key: Uint8Array | null
  partition?: number
  staticPartitionOf?: number
}

export interface PartitionInput {
  strategy: PartitionStrategy
  partitionKeyProperty: string | undefined
  sourceTopic: string
  properties: MqttProperties | undefined
  userProperties: UserProperties
  destinationTopic: string
  instanceId: number
  partitionCount: number | undefined
}

/** `instanceId mod partitionCount`, never negative (Java's `%` and JavaScript's both keep the dividend's sign). */
export function staticPartition (instanceId: number, partitionCount: number): number {
  return ((instanceId % partitionCount) + partitionCount) % partitionCount
}

export function decidePartition (p: PartitionInput): PartitionDecision {
  const count = p.partitionCount !== undefined && Number.isInteger(p.partitionCount) && p.partitionCount > 0 ? p.partitionCount : undefined
  switch (p.strategy) {
    case 'Static':
      return count === undefined ? { key: null, staticPartitionOf: p.instanceId } : { key: null, partition: staticPartition(p.instanceId, count) }
    case 'Topic':
      return keyed(utf8Encode(p.sourceTopic), count)
    case 'Property': {
      const key = propertyKey(p)
      return key === undefined ? { key: null } : keyed(key, count)
    }
    default:
      return { key: null }
  }
}

function propertyKey (p: PartitionInput): Uint8Array | undefined {
  const name = p.partitionKeyProperty
  if (name === undefined || name === '') return undefined
  const user = p.userProperties.find(([n]) => n === name)
  if (user !== undefined) return utf8Encode(user[1])
  return builtInHeaderValue(p.properties, name)
}

function keyed (key: Uint8Array, count: number | undefined): PartitionDecision {
  return count === undefined ? { key } : { key, partition: javaCompatiblePartition(key, count) }
}
