import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import * as k8s from 'kubernetes-models'

// infra/k8s without a cluster: every document parses and validates against the Kubernetes OpenAPI schemas that
// kubernetes-models ships (offline, ajv inside), and the documents agree with one another (selectors, ports, the
// ConfigMap and Secret keys they read). kubernetes-models 4.5 (Kubernetes 1.27 schemas) is the last line that runs
// on Node 20; its schemas do not refuse unknown fields, hence the cross-checks below.

const DIR = join(process.cwd(), 'infra/k8s')
type Doc = { apiVersion: string, kind: string, metadata: { name: string, namespace?: string, labels?: Record<string, string> }, [k: string]: any }

/** The model class for apiVersion + kind (`apps/v1` Deployment → k8s.apps.v1.Deployment). */
function modelFor (apiVersion: string, kind: string): (new (data: unknown) => { validate: () => void }) | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') as [string, string] : ['', apiVersion]
  const groupKey = group === '' ? 'v1' : group.replace(/\.([a-z])/g, (_m, c: string) => c.toUpperCase()).replace(/\./g, '')
  const ns = (k8s as Record<string, any>)[groupKey]
  const versioned = group === '' ? ns : ns?.[version]
  return versioned?.[kind]
}

/**
 * Files that are not Kubernetes manifests: device-access.yaml holds Flowgate resources (AIO's broker kinds and the
 * Secrets/ConfigMaps they name), applied with `flowgate apply -f`, never with kubectl; k8s-processes.test.ts runs it.
 */
export const FLOWGATE_RESOURCE_FILES = ['device-access.yaml']

export function loadManifests (dir = DIR): Array<{ file: string, doc: Doc }> {
  const out: Array<{ file: string, doc: Doc }> = []
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && !FLOWGATE_RESOURCE_FILES.includes(f)).sort()) {
    for (const d of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`)
      const doc = d.toJS() as Doc | null
      if (doc) out.push({ file, doc })
    }
  }
  return out
}

/** Every problem with a set of manifests; empty when they are fine. */
export function manifestProblems (docs: Array<{ file: string, doc: Doc }>): string[] {
  const problems: string[] = []
  const configMaps = new Map<string, Record<string, string>>()
  const secrets = new Map<string, Record<string, string>>()
  for (const { file, doc } of docs) {
    const where = `${file} ${doc.kind}/${doc.metadata?.name}`
    const Model = modelFor(doc.apiVersion, doc.kind)
    if (!Model) { problems.push(`${where}: unknown apiVersion/kind ${doc.apiVersion} ${doc.kind}`); continue }
    try { new Model(doc).validate() } catch (err) { problems.push(`${where}: ${(err as Error).message}`) }
    if (doc.kind === 'ConfigMap') configMaps.set(doc.metadata.name, doc.data ?? {})
    if (doc.kind === 'Secret') secrets.set(doc.metadata.name, { ...doc.data, ...doc.stringData })
  }
  const deployments = docs.filter(({ doc }) => doc.kind === 'Deployment')
  for (const { file, doc } of deployments) {
    const where = `${file} Deployment/${doc.metadata.name}`
    const labels = doc.spec?.template?.metadata?.labels ?? {}
    for (const [k, v] of Object.entries(doc.spec?.selector?.matchLabels ?? {})) if (labels[k] !== v) problems.push(`${where}: selector ${k}=${String(v)} does not match the pod labels`)
    for (const c of doc.spec?.template?.spec?.containers ?? []) {
      const ports = new Set((c.ports ?? []).flatMap((p: any) => [p.name, p.containerPort]))
      for (const probe of ['livenessProbe', 'readinessProbe']) {
        if (!c[probe]) problems.push(`${where}: container ${c.name} has no ${probe}`)
        const port = c[probe]?.httpGet?.port
        if (port !== undefined && !ports.has(port)) problems.push(`${where}: ${probe} port ${port} is not a container port`)
      }
      if (!c.resources?.requests || !c.resources?.limits) problems.push(`${where}: container ${c.name} needs resource requests and limits`)
      for (const from of c.envFrom ?? []) if (from.configMapRef && !configMaps.has(from.configMapRef.name)) problems.push(`${where}: ConfigMap ${from.configMapRef.name} not defined`)
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef
        if (ref && !(secrets.get(ref.name) ?? {})[ref.key]) problems.push(`${where}: Secret ${ref.name} has no key ${ref.key}`)
      }
    }
    if (doc.spec?.template?.spec?.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pods must run as non-root`)
  }
  for (const { file, doc } of docs.filter(({ doc }) => doc.kind === 'Service')) {
    const target = deployments.find(({ doc: d }) => Object.entries(doc.spec?.selector ?? {}).every(([k, v]) => d.spec?.template?.metadata?.labels?.[k] === v))
    if (!target) { problems.push(`${file} Service/${doc.metadata.name}: selects no Deployment`); continue }
    const names = new Set((target.doc.spec?.template?.spec?.containers ?? []).flatMap((c: any) => (c.ports ?? []).flatMap((p: any) => [p.name, p.containerPort])))
    for (const p of doc.spec?.ports ?? []) if (!names.has(p.targetPort ?? p.port)) problems.push(`${file} Service/${doc.metadata.name}: targetPort ${p.targetPort} not on ${target.doc.metadata.name}`)
  }
  return problems
}

t.test('every manifest in infra/k8s validates against the Kubernetes schemas and the others', async (t) => {
  const docs = loadManifests()
  const kinds = docs.map(({ doc }) => `${doc.kind}/${doc.metadata.name}`)
  for (const name of ['Deployment/flowgate-ingress', 'Deployment/flowgate-translator', 'Deployment/flowgate-egress', 'Deployment/flowgate-admin', 'Service/flowgate-ingress', 'Service/flowgate-translator', 'Service/flowgate-admin', 'Secret/flowgate-secrets', 'ConfigMap/flowgate-config']) {
    t.ok(kinds.includes(name), `${name} present`)
  }
  t.same(manifestProblems(docs), [])
  const replicas = Object.fromEntries(docs.filter(({ doc }) => doc.kind === 'Deployment').map(({ doc }) => [doc.metadata.name, doc.spec.replicas]))
  t.equal(replicas['flowgate-egress'], 2)
  t.equal(replicas['flowgate-admin'], 2)
  const admin = docs.find(({ doc }) => doc.metadata.name === 'flowgate-admin' && doc.kind === 'Deployment')!.doc
  const store = admin.spec.template.spec.containers[0].env.find((e: any) => e.name === 'FLOWGATE_STORE')
  t.same(store.valueFrom.secretKeyRef, { name: 'flowgate-secrets', key: 'store-url' }, 'the PostgreSQL URL comes from the Secret')
  const kustomization = readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')
  for (const file of new Set(docs.map((d) => d.file))) t.match(kustomization, file, `kustomization lists ${file}`)
  for (const file of FLOWGATE_RESOURCE_FILES) t.notMatch(kustomization, file, `kustomization leaves out ${file} (Flowgate resources)`)
  for (const name of ['flowgate-admin', 'flowgate-translator', 'flowgate-egress']) {
    const c = docs.find(({ doc }) => doc.kind === 'Deployment' && doc.metadata.name === name)!.doc.spec.template.spec.containers[0]
    t.same(c.env.find((e: any) => e.name === 'FLOWGATE_HOST'), { name: 'FLOWGATE_HOST', value: '0.0.0.0' }, `${name} listens on the pod IP`)
  }
  const ingress = docs.find(({ doc }) => doc.kind === 'Deployment' && doc.metadata.name === 'flowgate-ingress')!.doc.spec.template.spec.containers[0]
  t.not(ingress.env.find((e: any) => e.name === 'FLOWGATE_HOST')?.value, '0.0.0.0', 'the ingress keeps its unauthenticated listener on loopback (FG_ERR_INGRESS_OPEN_BIND)')
  t.notOk('FLOWGATE_HOST' in docs.find(({ doc }) => doc.kind === 'ConfigMap')!.doc.data, 'no shared FLOWGATE_HOST')
  for (const key of ['FLOWGATE_STORE', 'FLOWGATE_SECRET_KEY']) t.ok(ingress.env.some((e: any) => e.name === key && e.valueFrom?.secretKeyRef?.name === 'flowgate-secrets'), `the ingress gets ${key}`)
})

t.test('device-access.yaml holds Flowgate resources that validate against Flowgate\'s schemas', async (t) => {
  const { validate } = await import('../../packages/resources/src/index.js')
  for (const file of FLOWGATE_RESOURCE_FILES) {
    const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean)
    t.ok(docs.length > 0, `${file} has documents`)
    for (const doc of docs) {
      const result = validate(doc as never) as { ok: boolean, errors?: unknown }
      t.ok(result.ok, `${file} ${doc.kind}/${doc.metadata.name}: ${JSON.stringify(result.errors)}`)
    }
    const kinds = docs.map((d) => d.kind)
    for (const kind of ['BrokerListener', 'BrokerAuthentication', 'BrokerAuthorization']) t.ok(kinds.includes(kind), `${file} has a ${kind}`)
  }
})

t.test('every BrokerListener port authenticates; the egress reaches 18883 as the `default` endpoint says, with no anonymous port and no mounted CA', async (t) => {
  const access = parseAllDocuments(readFileSync(join(DIR, 'device-access.yaml'), 'utf8')).map((d) => d.toJS() as Doc).filter(Boolean)
  const get = (kind: string, name: string): Doc | undefined => access.find((d) => d.kind === kind && d.metadata.name === name)
  const ports = access.filter((d) => d.kind === 'BrokerListener').flatMap((d) => d.spec.ports as any[])
  for (const p of ports) t.ok(p.authenticationRef && get('BrokerAuthentication', p.authenticationRef), `port ${p.port} names a BrokerAuthentication in the file`)
  const internal = ports.find((p) => p.port === 18883)
  t.equal(internal?.tls?.mode, 'Manual', '18883 has TLS')
  // The egress' password: in the clear in the Secret the `default` endpoint names, its hash under the same user in
  // the Secret of 18883's BrokerAuthentication.
  const endpoint = get('DataflowEndpoint', 'default')!
  const settings = endpoint.spec.mqttSettings
  t.equal(settings.host.split(':')[1], '18883', 'the `default` endpoint is the internal port')
  t.equal(settings.tls.mode, 'Enabled')
  t.ok(get('ConfigMap', settings.tls.trustedCaCertificateConfigMapRef)?.data?.['ca.crt'], 'its trusted CA ConfigMap is in the file')
  t.equal(settings.authentication.method, 'UsernamePassword')
  const credentials = get('Secret', settings.authentication.usernamePasswordSettings.secretRef)
  t.ok(credentials?.stringData?.username && credentials.stringData.password, 'its Secret has username and password')
  const methods = get('BrokerAuthentication', internal.authenticationRef)!.spec.authenticationMethods as any[]
  t.same(methods.map((m) => m.method), ['UsernamePassword'], '18883 takes user names and passwords')
  const hashes = get('Secret', methods[0].usernamePasswordSettings.secretRef)!.stringData
  t.same(Object.keys(hashes), [credentials!.stringData.username], `18883 knows the ${credentials!.stringData.username} user, and only it`)
  for (const d of access.filter((d) => d.kind === 'BrokerListener')) {
    const devicePort = (d.spec.ports as any[]).find((p) => p.port !== 18883)
    if (devicePort) t.not(devicePort.authenticationRef, internal.authenticationRef, 'devices and the egress have their own BrokerAuthentication')
  }
  const k8sDocs = loadManifests()
  const container = (name: string): any => k8sDocs.find(({ doc }) => doc.kind === 'Deployment' && doc.metadata.name === name)!.doc.spec.template.spec.containers[0]
  t.notOk(container('flowgate-ingress').args.includes('--allow-anonymous'), 'the ingress runs without --allow-anonymous')
  t.notOk((container('flowgate-ingress').env ?? []).some((e: any) => e.name === 'FLOWGATE_ALLOW_ANONYMOUS'), 'nor its environment twin')
  t.notOk((container('flowgate-egress').env ?? []).some((e: any) => e.name === 'NODE_EXTRA_CA_CERTS'), 'the egress trusts the endpoint\'s CA, not NODE_EXTRA_CA_CERTS')
  const config = k8sDocs.find(({ doc }) => doc.kind === 'ConfigMap' && doc.metadata.name === 'flowgate-config')!.doc.data
  t.notMatch(config.FLOWGATE_MQTT, /@/, 'no credentials in FLOWGATE_MQTT')
  t.equal(new URL(config.FLOWGATE_MQTT).port, '18883')
  // Defence in depth: the NetworkPolicy still admits only egress pods to 18883.
  const policy = k8sDocs.find(({ doc }) => doc.kind === 'NetworkPolicy' && doc.metadata.name === 'flowgate-ingress')!.doc
  const rule = (policy.spec.ingress as any[]).find((r) => (r.ports ?? []).some((p: any) => p.port === 18883))
  t.same(rule?.from, [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'flowgate-egress' } } }], '18883 only from egress pods')
})

t.test('a broken manifest fails', async (t) => {
  const docs = loadManifests()
  const broken = (mutate: (d: Doc) => void): string[] => {
    const copy = structuredClone(docs)
    mutate(copy.find(({ doc }) => doc.kind === 'Deployment' && doc.metadata.name === 'flowgate-egress')!.doc)
    return manifestProblems(copy)
  }
  t.match(broken((d) => { d.spec.replicas = 'two' }).join('\n'), /replicas must be integer/)
  t.match(broken((d) => { delete d.spec.template.spec.containers }).join('\n'), /required property containers/)
  t.match(broken((d) => { d.spec.template.spec.containers[0].readinessProbe.httpGet.port = 'nope' }).join('\n'), /readinessProbe port nope/)
  t.match(broken((d) => { d.spec.template.metadata.labels = { other: 'x' } }).join('\n'), /selector/)
  t.match(broken((d) => { d.spec.template.spec.containers[0].env.push({ name: 'X', valueFrom: { secretKeyRef: { name: 'flowgate-secrets', key: 'missing' } } }) }).join('\n'), /no key missing/)
  t.match(broken((d) => { d.apiVersion = 'apps/v9' }).join('\n'), /unknown apiVersion/)
})
