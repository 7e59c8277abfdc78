/** Exponential backoff with full jitter (the AWS architecture blog's recommendation): retries of many flows spread out. */
export function backoffDelay (attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt))
  return Math.max(minMs, Math.floor(random() * ceiling))
}
