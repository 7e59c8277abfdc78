/** A KRaft cluster id (cluster-id.mjs). */
export function clusterId (): string
