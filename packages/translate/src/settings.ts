/** Translation settings with the seed's defaults, checked once per call (a wrong setting is the caller's bug: it throws). */
import { FG_ERR_TRANSLATE_CONTEXT, FG_ERR_TRANSLATE_SETTINGS } from './errors.js'
import type { CloudEventAttributes, Dropped, PartitionStrategy, TranslateContext, TranslateSettings } from './types.js'

export interface ResolvedSettings {
  copyMqttProperties: boolean
  partitionStrategy: PartitionStrategy
  partitionKeyProperty: string | undefined
  cloudEventAttributes: CloudEventAttributes | undefined
}

const STRATEGIES: readonly PartitionStrategy[] = ['Default', 'Static', 'Topic', 'Property']

/** Settings objects are a dataflow's, stable while it runs: each is checked once, not per message. */
const resolvedSettings = new WeakMap<TranslateSettings, ResolvedSettings>()

export function resolveSettings (s: TranslateSettings | undefined): ResolvedSettings {
  if (s === undefined) return DEFAULTS
  if (s === null || typeof s !== 'object') return checkSettings(s)
  let r = resolvedSettings.get(s)
  if (r === undefined) { r = checkSettings(s); resolvedSettings.set(s, r) }
  return r
}

function checkSettings (s: TranslateSettings | undefined): ResolvedSettings {
  const copy = s?.copyMqttProperties ?? 'Enabled'
  if (copy !== 'Enabled' && copy !== 'Disabled') throw FG_ERR_TRANSLATE_SETTINGS(`copyMqttProperties must be Enabled or Disabled, got ${String(copy)}`)
  const strategy = s?.partitionStrategy ?? 'Default'
  if (!STRATEGIES.includes(strategy)) throw FG_ERR_TRANSLATE_SETTINGS(`partitionStrategy must be one of ${STRATEGIES.join(', ')}, got ${String(strategy)}`)
  const ce = s?.cloudEventAttributes
  if (ce !== undefined && ce !== 'Propagate' && ce !== 'CreateOrRemap') throw FG_ERR_TRANSLATE_SETTINGS(`cloudEventAttributes must be Propagate or CreateOrRemap, got ${String(ce)}`)
  if (s?.partitionKeyProperty !== undefined && typeof s.partitionKeyProperty !== 'string') throw FG_ERR_TRANSLATE_SETTINGS('partitionKeyProperty must be a string')
  return { copyMqttProperties: copy === 'Enabled', partitionStrategy: strategy, partitionKeyProperty: s?.partitionKeyProperty, cloudEventAttributes: ce }
}

export function checkContext (ctx: TranslateContext): void {
  if (typeof ctx !== 'object' || ctx === null) throw FG_ERR_TRANSLATE_CONTEXT('a context object is required')
  if (!Number.isFinite(ctx.now)) throw FG_ERR_TRANSLATE_CONTEXT('now must be a number (ms since the epoch)')
  if (!Number.isInteger(ctx.instanceId)) throw FG_ERR_TRANSLATE_CONTEXT('instanceId must be an integer')
  if (typeof ctx.destinationTopic !== 'string') throw FG_ERR_TRANSLATE_CONTEXT('destinationTopic must be a string')
  if (typeof ctx.dataflow !== 'string') throw FG_ERR_TRANSLATE_CONTEXT('dataflow must be a string')
}

export function uuidGenerator (ctx: TranslateContext): () => string {
  return ctx.randomUUID ?? randomUUID
}

function randomUUID (): string { return globalThis.crypto.randomUUID() }

/**
 * Runs one message's translation; a message of the wrong shape (from a JavaScript caller: the HTTP service validates
 * first) that makes it throw is a drop, never an exception for the batch.
 */
export function droppedIfThrows<R> (translate: () => R): R | Dropped {
  try {
    return translate()
  } catch (err) {
    return invalidMessage(err)
  }
}

export function invalidMessage (err: unknown): Dropped {
  return { ok: false, reason: 'invalid-message', detail: err instanceof Error ? err.message : String(err) }
}

/** No settings: the seed's defaults, resolved once (a dataflow without kafkaSettings translates every record with them). */
const DEFAULTS: ResolvedSettings = Object.freeze(checkSettings(undefined))
