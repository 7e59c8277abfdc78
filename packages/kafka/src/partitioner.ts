/**
 * Where a record goes, for every `partitionStrategy` of the seed (DESIGN §6) — the one place the producer decides:
 *
 * - an explicit `partition` (the translator decided it) is checked against the topic and kept;
 * - `Static`: `instanceId mod partitionCount`;
 * - a key (`Topic` / `Property` put it on the record): the Java client's choice, `toPositive(murmur2(key)) mod
 *   partitionCount`, with Flowgate's own murmur2 (checked against vectors from Kafka's jars in @flowgate/translate);
 * - no key (`Default`, or a missing property): round-robin over the partitions that have a leader.
 *
 * The same choices as kafkajs' DefaultPartitioner for keys and for round-robin, without its per-call `Buffer` work.
 * The arithmetic of each rule (murmur2, `staticPartition`) lives in @flowgate/translate, which applies it too when
 * it knows a topic's partition count: one definition, whichever side decides.
 */
import { javaCompatiblePartition, staticPartition, type PartitionStrategy } from '@flowgate/translate'
import type { PartitionMetadata } from 'kafkajs'
import { KafkaEndpointError } from './errors.js'

export interface PartitionedRecord {
  topic: string
  key: Uint8Array | null
  partition?: number
  /** The translator chose `Static` without knowing the partition count. */
  staticPartition?: boolean
}

export type Partitioner = (partitions: readonly PartitionMetadata[], record: PartitionedRecord) => number

export function createPartitioner (settings: { strategy: PartitionStrategy, instanceId: number }): Partitioner {
  // Starts anywhere, as the Java client and kafkajs do, so that producers started together do not all begin at 0.
  let next = Math.floor(Math.random() * 0x7fffffff)
  return (partitions, record) => {
    const count = partitions.length
    if (record.partition != null) {
      if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= count) {
        throw new KafkaEndpointError({ code: 'FG_ERR_KAFKA_REJECTED', permanent: true, reason: `partition ${record.partition} is not in 0..${count - 1} of ${record.topic}` })
      }
      return record.partition
    }
    if (record.staticPartition === true || settings.strategy === 'Static') return staticPartition(settings.instanceId, count)
    if (record.key !== null) return javaCompatiblePartition(record.key, count)
    next = (next + 1) & 0x7fffffff
    let led = 0
    for (const p of partitions) if (p.leader >= 0) led++
    if (led === 0 || led === count) return partitions[next % count]!.partitionId
    let i = next % led
    for (const p of partitions) if (p.leader >= 0 && i-- === 0) return p.partitionId
    return partitions[next % count]!.partitionId
  }
}
