import type { ValidationError } from './types.js'

/**
 * What draft-07 cannot say, checked after the schema: counts of operation types, the `batching.enabled` spelling,
 * a TLS Secret's keys. Each returns errors in the validator's shape.
 */

type Doc = Record<string, any>

/** The seed's batching example writes `enabled: true`; Flowgate stores `mode: Enabled | Disabled`. */
export function normaliseBatchingEnabled (doc: Doc): ValidationError[] {
  const batching = doc?.spec?.kafkaSettings?.batching
  if (typeof batching !== 'object' || batching === null || typeof batching.enabled !== 'boolean') return []
  const mode = batching.enabled ? 'Enabled' : 'Disabled'
  if (batching.mode !== undefined && batching.mode !== mode) {
    return [{ path: '/spec/kafkaSettings/batching/enabled', message: `contradicts mode ${String(batching.mode)}: give one of mode or enabled` }]
  }
  delete batching.enabled
  batching.mode = mode
  return []
}

export function dataflowOperationCounts (doc: Doc): ValidationError[] {
  const ops: unknown[] = Array.isArray(doc?.spec?.operations) ? doc.spec.operations : []
  const count = (type: string): number => ops.filter((o: any) => o?.operationType === type).length
  const errors: ValidationError[] = []
  for (const [type, min, max] of [['Source', 1, 1], ['Destination', 1, 1], ['BuiltInTransformation', 0, 1]] as const) {
    const n = count(type)
    if (n < min || n > max) {
      errors.push({ path: '/spec/operations', message: `needs ${min === max ? 'exactly one' : 'at most one'} ${type} operation, found ${n}` })
    }
  }
  return errors
}

/** Kubernetes' `kubernetes.io/tls` Secret holds `tls.crt` and `tls.key`: the client certificate chain and its key. */
export function tlsSecretKeys (doc: Doc): ValidationError[] {
  if (doc?.type !== 'kubernetes.io/tls') return []
  const data = doc.data ?? {}
  return ['tls.crt', 'tls.key'].filter((k) => typeof data[k] !== 'string' || data[k] === '')
    .map((k) => ({ path: `/data/${k}`, message: 'required in a kubernetes.io/tls Secret' }))
}

/** `stringData` is write-only, as in Kubernetes: merged into `data` as base64, winning over the same key there. */
export function mergeStringData (doc: Doc): void {
  if (doc.stringData === undefined) return
  doc.data = { ...(doc.data ?? {}) }
  for (const [k, v] of Object.entries(doc.stringData as Record<string, string>)) doc.data[k] = Buffer.from(v, 'utf8').toString('base64')
  delete doc.stringData
}

/** Lets a user send Snappy or Lz4 to an Event Hubs host anyway (a future tier, a proxy in front). */
export const ALLOW_COMPRESSION_ANNOTATION = 'flowgate.dev/allow-unsupported-compression'
const EVENT_HUBS_HOST = /\.servicebus\.windows\.net(:\d+)?$/i

/**
 * Azure Event Hubs accepts only gzip-compressed batches (seed: "Only GZIP compression is supported in Azure Event
 * Hubs premium and dedicated tiers"); anything else fails every send at run time. Refused here, where the user can
 * still fix it, unless the annotation says they know better.
 */
export function eventHubsCompression (resource: Record<string, any>): ValidationError[] {
  const settings = resource.spec?.kafkaSettings
  if (settings === undefined || !EVENT_HUBS_HOST.test(String(settings.host ?? ''))) return []
  if (settings.compression === 'None' || settings.compression === 'Gzip') return []
  if (resource.metadata?.annotations?.[ALLOW_COMPRESSION_ANNOTATION] === 'true') return []
  return [{
    path: '/spec/kafkaSettings/compression',
    message: `Azure Event Hubs (${settings.host}) accepts only Gzip compression; ${settings.compression} batches would be refused. ` +
      `Set the annotation ${ALLOW_COMPRESSION_ANNOTATION}: "true" to send it anyway.`,
    allowed: ['None', 'Gzip']
  }]
}

/** `<HOST>`, `<YOUR-TOKEN-SECRET-NAME>`: how the documentation marks what a reader must fill in. */
const PLACEHOLDER = /<[A-Za-z][A-Za-z0-9_-]*>/g

/** Every string value still holding one of the documentation's placeholders, by path. */
export function placeholders (value: unknown, path = ''): ValidationError[] {
  if (typeof value === 'string') {
    const found = value.match(PLACEHOLDER)
    if (found === null) return []
    return [{ path, message: `${[...new Set(found)].join(', ')} ${found.length > 1 ? 'are placeholders' : 'is a placeholder'} from the documentation: replace ${found.length > 1 ? 'them' : 'it'} with your value` }]
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => placeholders(v, `${path}/${i}`))
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => placeholders(v, `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`))
  }
  return []
}

/**
 * A document without `kind` that is one of the page's partial examples (`kafkaSettings: …`, `spec: …`): say which
 * resource it belongs in and what is missing, rather than only "kind: required".
 */
export function fragmentHint (doc: Record<string, unknown>): ValidationError | undefined {
  const keys = Object.keys(doc)
  const where = keys.includes('spec')
    ? 'the `spec` of a resource'
    : keys.some((k) => /^kafkaSettings$/i.test(k)) ? 'part of a Kafka DataflowEndpoint\'s `spec`'
      : keys.some((k) => /^mqttSettings$/i.test(k)) ? 'part of an MQTT DataflowEndpoint\'s `spec`'
        : undefined
  if (where === undefined) return undefined
  return {
    path: '',
    message: `this is ${where}, not a whole resource: put it inside one with apiVersion (connectivity.iotoperations.azure.com/v1beta1), kind (DataflowEndpoint), metadata.name and metadata.namespace`
  }
}

const TOKEN_LEVEL = /^\{principal\.(clientId|username|attributes\.[^{}]+)\}$/

/**
 * A BrokerAuthorization's topics must be MQTT topic filters whose `{principal.…}` tokens fill whole levels (AIO's
 * rule): the runtime grants nothing for any other, so refusing it at apply time is what tells the user.
 */
export function authorizationTopics (resource: Record<string, any>): ValidationError[] {
  const rules: Array<Record<string, any>> = resource.spec?.authorizationPolicies?.rules ?? []
  return rules.flatMap((rule, r) => (rule.brokerResources ?? []).flatMap((res: Record<string, any>, b: number) =>
    (res.topics ?? []).flatMap((topic: string, i: number) => {
      const problem = topicTemplateProblem(topic)
      return problem === undefined ? [] : [{ path: `/spec/authorizationPolicies/rules/${r}/brokerResources/${b}/topics/${i}`, message: problem }]
    })))
}

function topicTemplateProblem (topic: string): string | undefined {
  const levels = topic.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!
    if (level.includes('{') || level.includes('}')) {
      if (!TOKEN_LEVEL.test(level)) return `${JSON.stringify(level)}: a {principal.clientId}, {principal.username} or {principal.attributes.NAME} token must be a whole topic level`
      continue
    }
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return `${JSON.stringify(topic)}: # must be a whole level and the last one`
    if (level.includes('+') && level !== '+') return `${JSON.stringify(topic)}: + must be a whole level`
  }
  return undefined
}
