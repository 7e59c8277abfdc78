import { mergeStatusParts } from '@flowgate/resources'
import { isStatusParts, type StoredResource } from '@flowgate/store'
import { PENDING_STATUS, REDACTED_ANNOTATION } from './options.js'
import type { SecretCipher } from './secrets.js'

/**
 * What a client reads for a stored resource. Secrets: the keys with empty values, as `kubectl get secret -o yaml`
 * would show if it hid values, and an annotation saying so (writing such a read back is refused, see
 * FG_ERR_REDACTED_SECRET). Dataflows and endpoints: always a `status`, pending until the runtime writes one, and
 * one status when several workers wrote theirs.
 */
export function readView (resource: StoredResource, cipher: SecretCipher): StoredResource {
  if (resource.kind === 'Secret') {
    const { data: _sealed, ...rest } = resource
    return {
      ...rest,
      metadata: { ...resource.metadata, annotations: { ...resource.metadata.annotations, [REDACTED_ANNOTATION]: 'true' } },
      data: Object.fromEntries(cipher.keys(resource).map((k) => [k, '']))
    }
  }
  if (resource.kind === 'Dataflow' || resource.kind === 'DataflowEndpoint') {
    const status = isStatusParts(resource.status) ? mergeStatusParts(resource.status.parts) : resource.status
    return { ...resource, status: status ?? structuredClone(PENDING_STATUS) }
  }
  return resource
}
