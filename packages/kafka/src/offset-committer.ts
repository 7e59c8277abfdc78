/**
 * One consumer's offset commits, off the delivery path: a batch marks how far it delivered and goes on; the marks
 * go to Kafka in one OffsetCommit request for every partition marked since the last one, with at most one request in
 * flight. Awaiting a commit per batch cost a round trip to the group coordinator for every batch: with many thin
 * partitions (a fan-out over 100 topics) the fetch loop spent most of its time waiting on commits, p99 87 ms against
 * aedes' 1.4 ms (test/bench/README.md, fanout).
 *
 * What a commit promises does not change: an offset is marked only once its records are delivered, so what is
 * committed never runs ahead of delivery. Marks not yet committed when a consumer dies are read again (at least once),
 * as before when it died between delivering and committing. `flush` waits until every mark so far is committed (or
 * refused): a batch stopping for a rebalance or a close flushes before it returns, while the member still owns its
 * partitions.
 */
export type CommitOffsets = (offsets: Array<{ topic: string, partition: number, offset: string }>) => Promise<void>

export interface OffsetCommitter {
  /** Records up to `nextOffset` (exclusive: Kafka's committed offset is the next one to read) are delivered. */
  mark: (topic: string, partition: number, nextOffset: string) => void
  /** Resolves once everything marked before the call was sent and answered. */
  flush: () => Promise<void>
}

export interface OffsetCommitterOptions {
  commit: CommitOffsets
  /** A refusal that means the group moved on: those marks are dropped (the next owner reads from the last commit). */
  refused: (err: unknown) => boolean
  /** Told of a refusal, once per failed request. */
  onRefused: (err: Error) => void
  /** Any other failure: the marks are kept (unless newer ones came) and sent again after `retryMs`. */
  onError: (err: Error) => void
  retryMs?: number
}

export function createOffsetCommitter (o: OffsetCommitterOptions): OffsetCommitter {
  let marks = new Map<string, { topic: string, partition: number, offset: string }>()
  /** The request in flight; resolves (never rejects) once answered and this state updated: true when it failed. */
  let inFlight: Promise<boolean> | undefined
  let retry: NodeJS.Timeout | undefined

  function send (): void {
    if (inFlight !== undefined || retry !== undefined || marks.size === 0) return
    const sending = marks
    marks = new Map()
    inFlight = o.commit([...sending.values()]).then(() => false, (err: unknown) => {
      if (o.refused(err)) { o.onRefused(err as Error); return false }
      o.onError(err as Error)
      // Kept for the next attempt, unless a later mark of the same partition supersedes it.
      for (const [key, mark] of sending) if (!marks.has(key)) marks.set(key, mark)
      retry = setTimeout(() => { retry = undefined; send() }, o.retryMs ?? 1000)
      retry.unref()
      return true
    }).then((failed) => {
      inFlight = undefined
      send()
      return failed
    })
  }

  return {
    mark (topic, partition, nextOffset) {
      marks.set(`${topic}\0${partition}`, { topic, partition, offset: nextOffset })
      send()
    },
    async flush () {
      // Not after a retry's backoff: now. Two rounds at most: the request already in flight (older marks), then one
      // with every mark made since. A failure ends the flush (Kafka away: the caller does not wait for it to return).
      if (retry !== undefined) { clearTimeout(retry); retry = undefined }
      for (let round = 0; round < 2; round++) {
        send()
        if (inFlight === undefined) return
        if (await inFlight) return
      }
    }
  }
}
