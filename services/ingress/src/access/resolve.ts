import { createHash } from 'node:crypto'
import type { StoredResource } from '@flowgate/store'
import type { AuthenticationMethod as MethodSpec, BrokerAuthentication, BrokerAuthorization, BrokerListener, ListenerPort } from '@flowgate/resources'
import type { AuthenticationMethod } from './types.js'
import type { AccessSource } from './source.js'
import { parsePemBundle } from './pem.js'
import { createX509Authentication } from './authn/x509.js'
import { createCustomAuthentication } from './authn/custom.js'
import { createServiceAccountTokenAuthentication } from './authn/service-account-token.js'
import { createUsernamePasswordAuthentication, type UsernamePasswordAuthentication } from './authn/username-password.js'
import { compileAuthorization, type AuthorizationPolicy } from './authz/policy.js'
import { automaticTls } from './automatic-tls.js'

/** One listener port, resolved into everything its server and the broker's hooks need. */
export interface ResolvedPort {
  /** `namespace/listener:port`. */
  id: string
  listener: { namespace: string, name: string }
  port: number
  protocol: 'Mqtt' | 'WebSockets'
  /** The address it binds: every interface, or loopback when the port has no authentication (see `notes`). */
  host: string
  tls?: { mode: 'Manual' | 'Automatic', cert: string, key: string, caCertificate?: string }
  /** Union of the X509 methods' trusted CAs: what the TLS handshake asks client certificates to chain to. */
  clientCas?: string
  authentication?: ResolvedAuthentication
  authorization?: { name: string, policy: AuthorizationPolicy, fingerprint: string }
  allowedOrigins: readonly string[]
  notes: string[]
}

export interface ResolvedAuthentication {
  name: string
  methods: readonly AuthenticationMethod[]
  /** Enhanced-authentication methods (`K8S-SAT`) a CONNECT may name. */
  enhancedMethods: ReadonlySet<string>
  /** Changes with the spec and with the Secrets and ConfigMaps it names: what decides re-checking devices. */
  fingerprint: string
  /** What a user should fix, for the listener's status (e.g. a password stored in clear). */
  notes: readonly string[]
}

export interface ResolveOptions {
  /** Where authenticated ports bind: every interface. */
  networkHost: string
  /** Ports without authentication bind here unless `allowAnonymous`. */
  loopbackHost: string
  allowAnonymous: boolean
  /** Ports already taken by the built-in listener(s). */
  reservedPorts: ReadonlySet<number>
  log: { info: (obj: object, msg: string) => void }
}

export interface ListenerProblem { listener: string, port?: number, message: string }

export interface Resolution {
  ports: ResolvedPort[]
  /** Per listener (`namespace/name`): ports that could not be opened and why. */
  problems: ListenerProblem[]
}

type Cache = Map<string, { fingerprint: string, value: ResolvedAuthentication }>

/**
 * From the stored broker resources to the ports to serve. Authentication methods are reused while their
 * fingerprint holds (they own HTTP agents and key caches); a port whose references do not resolve is not opened —
 * never opened with less protection than its resource asks for.
 */
export async function resolvePorts (items: readonly StoredResource[], source: AccessSource, options: ResolveOptions, cache: Cache): Promise<Resolution> {
  const byKind = (kind: string): StoredResource[] => items.filter((r) => r.kind === kind)
  const find = (kind: string, namespace: string, name: string): StoredResource | undefined =>
    items.find((r) => r.kind === kind && r.metadata.namespace === namespace && r.metadata.name === name)
  const ports: ResolvedPort[] = []
  const problems: ListenerProblem[] = []
  const taken = new Map<number, string>()
  const used = new Set<string>()

  for (const stored of byKind('BrokerListener')) {
    const listener = stored as unknown as BrokerListener
    const ns = listener.metadata.namespace ?? 'default'
    const label = `${ns}/${listener.metadata.name}`
    const listenerNotes = kubernetesOnlyNotes(listener)
    for (const p of listener.spec.ports) {
      const id = `${label}:${p.port}`
      const problem = (message: string): void => { problems.push({ listener: label, port: p.port, message }) }
      if (options.reservedPorts.has(p.port)) { problem(`port ${p.port} is the built-in listener's (--mqtt-port)`); continue }
      const holder = taken.get(p.port)
      if (holder !== undefined) { problem(`port ${p.port} is already used by ${holder}`); continue }
      try {
        const authentication = p.authenticationRef === undefined ? undefined : await resolveAuthentication(find, source, ns, p.authenticationRef, cache)
        if (authentication !== undefined) used.add(`${ns}/${p.authenticationRef}`)
        const authorization = p.authorizationRef === undefined ? undefined : resolveAuthorization(find, ns, p.authorizationRef)
        const notes = [...listenerNotes]
        if (authorization !== undefined && authentication === undefined) {
          notes.push('authorizationRef without authenticationRef: as in AIO, authorization applies only to authenticated ports, so it is ignored here')
        }
        const x509Cas = authentication?.x509Cas
        const tls = p.tls === undefined ? undefined : await resolveTls(listener, p, source, ns)
        if (x509Cas !== undefined && tls === undefined) throw new Error('X509 authentication needs TLS on the port (add tls)')
        const anonymous = authentication === undefined
        if (anonymous && !options.allowAnonymous) notes.push(`no authenticationRef: bound to ${options.loopbackHost} only (start with --allow-anonymous to expose it)`)
        if (p.nodePort !== undefined) notes.push('nodePort is Kubernetes-only: ignored')
        if (tls?.notes) notes.push(...tls.notes)
        if (authentication !== undefined) notes.push(...authentication.resolved.notes)
        taken.set(p.port, label)
        ports.push({
          id,
          listener: { namespace: ns, name: listener.metadata.name },
          port: p.port,
          protocol: p.protocol ?? 'Mqtt',
          host: anonymous && !options.allowAnonymous ? options.loopbackHost : options.networkHost,
          ...(tls !== undefined ? { tls: tls.tls } : {}),
          ...(x509Cas !== undefined ? { clientCas: x509Cas } : {}),
          ...(authentication !== undefined ? { authentication: authentication.resolved } : {}),
          ...(authorization !== undefined && authentication !== undefined ? { authorization } : {}),
          allowedOrigins: p.allowedOrigins ?? [],
          notes
        })
      } catch (err) {
        problem((err as Error).message)
      }
    }
  }
  // Methods of authentications no port uses any more are closed (agents, timers).
  for (const [key, entry] of cache) {
    if (!used.has(key)) { cache.delete(key); for (const m of entry.value.methods) void m.close?.() }
  }
  return { ports, problems }
}

function kubernetesOnlyNotes (listener: BrokerListener): string[] {
  const notes: string[] = []
  for (const field of ['serviceType', 'serviceName', 'brokerRef'] as const) {
    if (listener.spec[field] !== undefined) notes.push(`${field} is Kubernetes-only: ignored`)
  }
  return notes
}

type Find = (kind: string, namespace: string, name: string) => StoredResource | undefined

async function resolveAuthentication (find: Find, source: AccessSource, ns: string, name: string, cache: Cache): Promise<{ resolved: ResolvedAuthentication, x509Cas?: string }> {
  const stored = find('BrokerAuthentication', ns, name)
  if (stored === undefined) throw new Error(`brokerauthentication/${name} not found in namespace ${ns}: the port stays closed`)
  const spec = (stored as unknown as BrokerAuthentication).spec
  // Everything the methods are built from, read once: the fingerprint covers referenced data too.
  const inputs = await Promise.all(spec.authenticationMethods.map(async (m, i) => await methodInputs(source, ns, m, i)))
  const fingerprint = createHash('sha256').update(JSON.stringify([spec, inputs])).digest('hex')
  const key = `${ns}/${name}`
  const x509Cas = inputs.map((i) => i.trustedCas).filter((c): c is string => c !== undefined).join('\n') || undefined
  const cached = cache.get(key)
  if (cached?.fingerprint === fingerprint) return { resolved: cached.value, ...(x509Cas !== undefined ? { x509Cas } : {}) }
  const methods = spec.authenticationMethods.map((m, i) => buildMethod(m, inputs[i]!))
  const notes = methods.flatMap((m) => {
    const invalid = (m as Partial<UsernamePasswordAuthentication>).invalidUsers?.() ?? []
    return invalid.length === 0 ? [] : [`${name}: ${invalid.join(', ')} cannot log in: the Secret holds no scrypt hash for them (make one with \`flowgate passwd\`)`]
  })
  const value: ResolvedAuthentication = {
    name,
    methods,
    notes,
    enhancedMethods: new Set(spec.authenticationMethods.some((m) => m.method === 'ServiceAccountToken') ? ['K8S-SAT'] : []),
    fingerprint
  }
  if (cached !== undefined) for (const m of cached.value.methods) void m.close?.()
  cache.set(key, { fingerprint, value })
  return { resolved: value, ...(x509Cas !== undefined ? { x509Cas } : {}) }
}

interface MethodInputs {
  trustedCas?: string
  customCa?: string
  customClientCert?: { cert: string, key: string }
  users?: Record<string, string>
}

async function methodInputs (source: AccessSource, ns: string, m: MethodSpec, i: number): Promise<MethodInputs> {
  const at = `authenticationMethods[${i}] (${m.method})`
  const configMapPems = async (name: string, what: string): Promise<string> => {
    const data = await source.configMap(ns, name)
    if (data === undefined) throw new Error(`${at}: configmap/${name} (${what}) not found in namespace ${ns}`)
    const pems = Object.values(data).flatMap(parsePemBundle)
    if (pems.length === 0) throw new Error(`${at}: configmap/${name} holds no PEM certificate`)
    return pems.join('\n')
  }
  const secret = async (name: string): Promise<Record<string, Buffer>> => {
    const data = await source.secret(ns, name)
    if (data === undefined) throw new Error(`${at}: secret/${name} not found in namespace ${ns}`)
    return data
  }
  switch (m.method) {
    case 'X509':
      return { trustedCas: await configMapPems(m.x509Settings!.trustedClientCaCert, 'trustedClientCaCert') }
    case 'Custom': {
      const s = m.customSettings!
      const out: MethodInputs = {}
      if (s.caCertConfigMap !== undefined) out.customCa = await configMapPems(s.caCertConfigMap, 'caCertConfigMap')
      if (s.auth?.x509 !== undefined) {
        const data = await secret(s.auth.x509.secretRef)
        if (data['tls.crt'] === undefined || data['tls.key'] === undefined) throw new Error(`${at}: secret/${s.auth.x509.secretRef} needs tls.crt and tls.key`)
        out.customClientCert = { cert: data['tls.crt'].toString('utf8'), key: data['tls.key'].toString('utf8') }
      }
      return out
    }
    case 'UsernamePassword': {
      const data = await secret(m.usernamePasswordSettings!.secretRef)
      return { users: Object.fromEntries(Object.entries(data).map(([user, hash]) => [user, hash.toString('utf8')])) }
    }
    default:
      return {}
  }
}

function buildMethod (m: MethodSpec, inputs: MethodInputs): AuthenticationMethod {
  switch (m.method) {
    case 'X509':
      return createX509Authentication({ trustedCas: inputs.trustedCas!, ...(m.x509Settings!.authorizationAttributes !== undefined ? { authorizationAttributes: m.x509Settings!.authorizationAttributes } : {}) })
    case 'Custom': {
      const s = m.customSettings!
      return createCustomAuthentication({
        endpoint: s.endpoint,
        ...(s.headers !== undefined ? { headers: s.headers } : {}),
        ...(inputs.customCa !== undefined ? { ca: inputs.customCa } : {}),
        ...(inputs.customClientCert !== undefined ? { clientCert: inputs.customClientCert } : {})
      })
    }
    case 'ServiceAccountToken': {
      const s = m.serviceAccountTokenSettings!
      return createServiceAccountTokenAuthentication({ audiences: s.audiences, ...(s.jwksUri !== undefined ? { jwksUri: s.jwksUri } : {}), ...(s.issuer !== undefined ? { issuer: s.issuer } : {}) })
    }
    case 'UsernamePassword': {
      const s = m.usernamePasswordSettings!
      return createUsernamePasswordAuthentication({ users: inputs.users ?? {}, ...(s.userAttributes !== undefined ? { userAttributes: s.userAttributes } : {}) })
    }
  }
}

function resolveAuthorization (find: Find, ns: string, name: string): { name: string, policy: AuthorizationPolicy, fingerprint: string } {
  const stored = find('BrokerAuthorization', ns, name)
  if (stored === undefined) throw new Error(`brokerauthorization/${name} not found in namespace ${ns}: the port stays closed`)
  const spec = (stored as unknown as BrokerAuthorization).spec
  return { name, policy: compileAuthorization(spec), fingerprint: createHash('sha256').update(JSON.stringify(spec)).digest('hex') }
}

async function resolveTls (listener: BrokerListener, p: ListenerPort, source: AccessSource, ns: string): Promise<{ tls: NonNullable<ResolvedPort['tls']>, notes?: string[] }> {
  const tls = p.tls!
  if (tls.mode === 'Manual') {
    const name = tls.manual!.secretRef
    const data = await source.secret(ns, name)
    if (data === undefined) throw new Error(`secret/${name} (tls.manual.secretRef) not found in namespace ${ns}: the port stays closed`)
    const cert = data['tls.crt']?.toString('utf8')
    const key = data['tls.key']?.toString('utf8')
    if (cert === undefined || key === undefined) throw new Error(`secret/${name} needs tls.crt and tls.key (a kubernetes.io/tls Secret)`)
    return { tls: { mode: 'Manual', cert, key } }
  }
  return await automaticTls(listener, p, source, ns)
}
