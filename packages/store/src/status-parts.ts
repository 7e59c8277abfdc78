/**
 * A status written by several writers at once (the workers of one gateway, each running every dataflow): each
 * writes its own part and the stored status is `{ parts: { [writer]: status } }`. Who reads it merges the parts
 * (the admin API, see @flowgate/resources' mergeStatusParts); the store only keeps them apart, so that no writer's
 * counts overwrite another's.
 */
export interface StatusParts { parts: Record<string, unknown> }

export function isStatusParts (status: unknown): status is StatusParts {
  const parts = (status as { parts?: unknown } | null | undefined)?.parts
  return typeof parts === 'object' && parts !== null && !Array.isArray(parts)
}

/** The stored status once `writer` wrote `part`: the other writers' parts kept; a single-writer status replaced. */
export function withStatusPart (stored: unknown, writer: string, part: unknown): StatusParts {
  return { parts: { ...(isStatusParts(stored) ? stored.parts : {}), [writer]: part } }
}
