import { api, ApiError, API_VERSION, resourcePath } from './api.js'
import { checked, clearErrors, resolvePaths, showApiError, showFieldError, value } from './forms.js'

// The seed's portal tables (Basic and Advanced) mapped onto spec.kafkaSettings.
const SETTINGS_KEY = {
  SystemAssignedManagedIdentity: 'systemAssignedManagedIdentitySettings',
  UserAssignedManagedIdentity: 'userAssignedManagedIdentitySettings',
  Sasl: 'saslSettings',
  X509Certificate: 'x509CertificateSettings',
  Anonymous: 'anonymousSettings'
}

const dialog = () => document.getElementById('endpoint-dialog')
const form = () => document.getElementById('endpoint-form')
let editing // the resource being edited, for its resourceVersion

function showAuthFields () {
  const f = form()
  const method = f.elements.namedItem('method').value
  for (const group of f.querySelectorAll('.auth-only')) group.hidden = !group.dataset.auth.split(' ').includes(method)
  resolvePaths(f, { settings: SETTINGS_KEY[method] })
}

function setValue (name, v) {
  const el = form().elements.namedItem(name)
  if (el.type === 'checkbox') el.checked = v
  else el.value = v ?? ''
}

export function openEndpointForm (resource, onSaved) {
  const f = form()
  f.reset()
  clearErrors(f)
  editing = resource
  const k = resource?.spec?.kafkaSettings ?? {}
  const auth = k.authentication ?? {}
  const settings = auth[SETTINGS_KEY[auth.method]] ?? {}
  document.getElementById('endpoint-dialog-title').textContent = resource ? `Edit endpoint ${resource.metadata.name}` : 'New Kafka dataflow endpoint'
  setValue('name', resource?.metadata.name)
  setValue('namespace', resource?.metadata.namespace ?? 'default')
  f.elements.namedItem('name').readOnly = resource !== undefined
  f.elements.namedItem('namespace').readOnly = resource !== undefined
  setValue('host', k.host)
  setValue('method', auth.method ?? 'SystemAssignedManagedIdentity')
  setValue('audience', settings.audience)
  setValue('clientId', settings.clientId)
  setValue('tenantId', settings.tenantId)
  setValue('saslType', settings.saslType ?? 'Plain')
  setValue('secretRef', settings.secretRef)
  setValue('consumerGroupId', k.consumerGroupId)
  setValue('compression', k.compression ?? 'None')
  setValue('copyMqttProperties', (k.copyMqttProperties ?? 'Enabled') === 'Enabled')
  setValue('kafkaAcks', k.kafkaAcks ?? 'All')
  setValue('partitionStrategy', k.partitionStrategy ?? 'Default')
  setValue('partitionKeyProperty', k.partitionKeyProperty)
  setValue('tls', (k.tls?.mode ?? 'Enabled') === 'Enabled')
  setValue('trustedCa', k.tls?.trustedCaCertificateConfigMapRef)
  setValue('batching', (k.batching?.mode ?? 'Enabled') === 'Enabled')
  setValue('latencyMs', k.batching?.latencyMs)
  setValue('maxBytes', k.batching?.maxBytes)
  setValue('maxMessages', k.batching?.maxMessages)
  setValue('cloudEventAttributes', k.cloudEventAttributes ?? 'Propagate')
  showAuthFields()
  f.onsubmit = (event) => { event.preventDefault(); void submit(onSaved) }
  dialog().showModal()
  f.elements.namedItem(resource ? 'host' : 'name').focus()
}

/** A number field as the API should see it: absent when empty, else the number (or the text, for the API to refuse). */
function numberField (f, name) {
  const raw = value(f, name)
  if (raw === '') return undefined
  const n = Number(raw)
  return Number.isFinite(n) ? n : raw
}

function buildEndpoint (f) {
  const method = value(f, 'method')
  const settings = {}
  if (method === 'SystemAssignedManagedIdentity' && value(f, 'audience') !== '') settings.audience = value(f, 'audience')
  if (method === 'UserAssignedManagedIdentity') {
    if (value(f, 'clientId') !== '') settings.clientId = value(f, 'clientId')
    if (value(f, 'tenantId') !== '') settings.tenantId = value(f, 'tenantId')
  }
  if (method === 'Sasl') settings.saslType = value(f, 'saslType')
  if ((method === 'Sasl' || method === 'X509Certificate') && value(f, 'secretRef') !== '') settings.secretRef = value(f, 'secretRef')
  const batching = { mode: checked(f, 'batching') ? 'Enabled' : 'Disabled' }
  for (const name of ['latencyMs', 'maxBytes', 'maxMessages']) {
    const n = numberField(f, name)
    if (n !== undefined) batching[name] = n
  }
  const tls = { mode: checked(f, 'tls') ? 'Enabled' : 'Disabled' }
  if (value(f, 'trustedCa') !== '') tls.trustedCaCertificateConfigMapRef = value(f, 'trustedCa')
  const kafkaSettings = {
    ...(value(f, 'host') !== '' ? { host: value(f, 'host') } : {}),
    authentication: { method, [SETTINGS_KEY[method]]: settings },
    tls,
    ...(value(f, 'consumerGroupId') !== '' ? { consumerGroupId: value(f, 'consumerGroupId') } : {}),
    compression: value(f, 'compression'),
    batching,
    partitionStrategy: value(f, 'partitionStrategy'),
    ...(value(f, 'partitionKeyProperty') !== '' ? { partitionKeyProperty: value(f, 'partitionKeyProperty') } : {}),
    kafkaAcks: value(f, 'kafkaAcks'),
    copyMqttProperties: checked(f, 'copyMqttProperties') ? 'Enabled' : 'Disabled',
    cloudEventAttributes: value(f, 'cloudEventAttributes')
  }
  const metadata = { name: value(f, 'name'), namespace: value(f, 'namespace') || 'default' }
  if (editing?.metadata.resourceVersion) metadata.resourceVersion = editing.metadata.resourceVersion
  return { apiVersion: API_VERSION, kind: 'DataflowEndpoint', metadata, spec: { endpointType: 'Kafka', kafkaSettings } }
}

async function submit (onSaved) {
  const f = form()
  clearErrors(f)
  const resource = buildEndpoint(f)
  const { name, namespace } = resource.metadata
  if (name === '') { showFieldError(f, '/metadata/name', 'required'); f.elements.namedItem('name').focus(); return }
  try {
    // X509: the certificate, its chain and key become the kubernetes.io/tls Secret the endpoint names.
    const cert = value(f, 'x509Cert')
    const key = value(f, 'x509Key')
    if (resource.spec.kafkaSettings.authentication.method === 'X509Certificate' && (cert !== '' || key !== '')) {
      const secretName = value(f, 'secretRef')
      if (secretName === '') { showFieldError(f, '/spec/kafkaSettings/authentication/x509CertificateSettings/secretRef', 'required: the secret to write the certificate into'); return }
      const chain = value(f, 'x509Chain')
      await api('PUT', resourcePath('secrets', namespace, secretName), {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secretName, namespace },
        type: 'kubernetes.io/tls',
        stringData: { 'tls.crt': cert + (chain !== '' ? '\n' + chain : '') + '\n', 'tls.key': key + '\n' }
      })
    }
    await api('PUT', resourcePath('dataflowendpoints', namespace, name), resource)
    dialog().close()
    onSaved?.()
  } catch (err) {
    if (err instanceof ApiError) showApiError(f, err)
    else f.querySelector('.error[role="alert"]').textContent = String(err.message ?? err)
  }
}

export function initEndpointForm () {
  const f = form()
  f.elements.namedItem('method').addEventListener('change', showAuthFields)
  showAuthFields()
}
