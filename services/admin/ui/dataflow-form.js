import { api, ApiError, API_VERSION, resourcePath } from './api.js'
import { clearErrors, showApiError, showFieldError, value } from './forms.js'
import { resolvePaths } from './forms.js'

const dialog = () => document.getElementById('dataflow-dialog')
const form = () => document.getElementById('dataflow-form')

function fillEndpoints (select, endpoints, preferred) {
  select.replaceChildren(...endpoints.map((e) => {
    const o = document.createElement('option')
    o.value = `${e.metadata.namespace}/${e.metadata.name}`
    o.textContent = `${e.metadata.name} (${e.spec.endpointType}, ${e.metadata.namespace})`
    return o
  }))
  const pick = endpoints.find(preferred)
  if (pick) select.value = `${pick.metadata.namespace}/${pick.metadata.name}`
}

export function openDataflowForm (endpoints, onSaved) {
  const f = form()
  f.reset()
  clearErrors(f)
  resolvePaths(f, {})
  fillEndpoints(f.elements.namedItem('source'), endpoints, (e) => e.spec.endpointType === 'Mqtt')
  fillEndpoints(f.elements.namedItem('destination'), endpoints, (e) => e.spec.endpointType === 'Kafka')
  f.onsubmit = (event) => { event.preventDefault(); void submit(onSaved) }
  dialog().showModal()
  f.elements.namedItem('name').focus()
}

async function submit (onSaved) {
  const f = form()
  clearErrors(f)
  const name = value(f, 'name')
  const namespace = value(f, 'namespace') || 'default'
  if (name === '') { showFieldError(f, '/metadata/name', 'required'); f.elements.namedItem('name').focus(); return }
  const ref = (v) => v.split('/').slice(1).join('/')
  const dataSources = value(f, 'dataSources').split('\n').map((s) => s.trim()).filter((s) => s !== '')
  const destination = { endpointRef: ref(value(f, 'destination')) }
  if (value(f, 'dataDestination') !== '') destination.dataDestination = value(f, 'dataDestination')
  const resource = {
    apiVersion: API_VERSION,
    kind: 'Dataflow',
    metadata: { name, namespace },
    spec: {
      profileRef: 'default',
      mode: 'Enabled',
      operations: [
        { operationType: 'Source', sourceSettings: { endpointRef: ref(value(f, 'source')), dataSources } },
        { operationType: 'Destination', destinationSettings: destination }
      ]
    }
  }
  try {
    await api('PUT', resourcePath('dataflows', namespace, name), resource)
    dialog().close()
    onSaved?.()
  } catch (err) {
    if (err instanceof ApiError) showApiError(f, err)
    else f.querySelector('.error[role="alert"]').textContent = String(err.message ?? err)
  }
}
