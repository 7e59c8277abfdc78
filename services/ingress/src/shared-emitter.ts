/**
 * The broker's message emitter shared through Redis (mqemitter-redis, aedes' own clustering backend): every publish
 * any broker on the same Redis takes is delivered to the subscribers of all of them, and aedes' `$SYS` notices
 * (new subscriptions, heartbeats, client take-overs) reach every broker, which is what keeps their Redis session
 * persistence in step. For several gateway processes sharing devices — `flowgate start --workers N`, or gateways on
 * several machines behind a TCP load balancer — never for the split deployment's ingress, whose `$share` groups are
 * per broker (a message would reach each broker's group).
 *
 * Every publish makes a round trip to Redis before local subscribers get it: the price of one broker across
 * processes, paid only where it is asked for.
 */
import { createRequire } from 'node:module'
import type { AedesOptions } from 'aedes'

type Emitter = NonNullable<AedesOptions['mq']> & { state: { on: (event: 'error', listener: (err: Error) => void) => void } }
const MQEmitterRedis = createRequire(import.meta.url)('mqemitter-redis') as (opts: { connectionString: string }) => Emitter

export function redisEmitter (url: string, onError: (err: Error) => void): NonNullable<AedesOptions['mq']> {
  const mq = MQEmitterRedis({ connectionString: url })
  // ioredis reconnects by itself; an error here is news for the log, not a reason to stop the broker.
  mq.state.on('error', onError)
  return mq
}
