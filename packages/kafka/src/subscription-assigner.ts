/**
 * The partition assigner of Kafka → MQTT consumer groups (issue 18, item 6): each topic's partitions go only to the
 * members that subscribed to that topic, spread evenly — the least loaded subscriber first, ties by member id.
 *
 * kafkajs' round-robin assigner deals the union of every member's topics to every member; a consumer then drops the
 * topics it did not subscribe to (RECEIVED_UNSUBSCRIBED_TOPICS), so when two dataflows share a `consumerGroupId`
 * with different topics, some partitions belong to a member that never fetches them: stranded, lag growing forever.
 * Here a member only ever receives partitions of its own topics.
 *
 * Members of an older Flowgate (round-robin only) can still join: the group chooses a protocol every member
 * supports, so round-robin stays listed second.
 */
import { AssignerProtocol, PartitionAssigners, type Assigner, type GroupMemberAssignment, type PartitionAssigner } from 'kafkajs'

export const subscriptionAssignerName = 'FlowgateSubscriptionAssigner'

export interface MemberSubscription { memberId: string, topics: readonly string[] }

/** The pure assignment: `partitionsOf(topic)` lists a topic's partitions (none when the topic is unknown). */
export function assignBySubscription (members: readonly MemberSubscription[], partitionsOf: (topic: string) => number[]): Map<string, Record<string, number[]>> {
  const sorted = [...members].sort((x, y) => x.memberId < y.memberId ? -1 : x.memberId > y.memberId ? 1 : 0)
  const load = new Map<string, number>(sorted.map((m) => [m.memberId, 0]))
  const out = new Map<string, Record<string, number[]>>(sorted.map((m) => [m.memberId, {}]))
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].sort()
  for (const topic of topics) {
    const subscribers = sorted.filter((m) => m.topics.includes(topic)).map((m) => m.memberId)
    for (const partition of [...partitionsOf(topic)].sort((x, y) => x - y)) {
      let chosen = subscribers[0]!
      for (const id of subscribers) if (load.get(id)! < load.get(chosen)!) chosen = id
      load.set(chosen, load.get(chosen)! + 1);
      (out.get(chosen)![topic] ??= []).push(partition)
    }
  }
  return out
}

export const subscriptionAssigner: PartitionAssigner = ({ cluster, logger }) => ({
  name: subscriptionAssignerName,
  version: 0,
  async assign ({ members }): Promise<GroupMemberAssignment[]> {
    const subscriptions = members.map((m) => ({ memberId: m.memberId, topics: AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? [] }))
    // kafkajs hands the leader its own topics only, and its metadata covers only those: learn every member's topics.
    const all = [...new Set(subscriptions.flatMap((m) => m.topics))]
    await cluster.addMultipleTargetTopics(all).catch(async () => {
      // One topic the leader may not see (another endpoint's credentials) must not keep the others unassigned.
      for (const topic of all) {
        await cluster.addTargetTopic(topic).catch((err: Error) => logger.warn('topic of another member not visible to the group leader: not assigned', { topic, error: err.message }))
      }
    })
    const assignment = assignBySubscription(subscriptions, (topic) => {
      try {
        return cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId)
      } catch {
        return []
      }
    })
    return [...assignment].map(([memberId, topics]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: topics, userData: Buffer.alloc(0) })
    }))
  },
  protocol ({ topics }) {
    return { name: subscriptionAssignerName, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) }
  }
} satisfies Assigner)

/** Preferred first; round-robin for groups that still hold members of an older Flowgate. */
export const consumerAssigners: PartitionAssigner[] = [subscriptionAssigner, PartitionAssigners.roundRobin]
