import { api, resourcePath } from './api.js'
import { $, copyText } from './dom.js'
import { toYaml } from './yaml.js'

// The YAML of one stored resource, read fresh (the table may be a poll behind), to view and copy.

export async function showYaml (plural, r) {
  const fresh = await api('GET', resourcePath(plural, r.metadata.namespace, r.metadata.name))
  $('yaml-title').textContent = `${fresh.kind} ${fresh.metadata.namespace}/${fresh.metadata.name}`
  $('yaml-text').textContent = toYaml(fresh)
  $('yaml-copied').textContent = ''
  $('yaml-dialog').showModal()
}

export function initYamlDialog () {
  $('yaml-copy').addEventListener('click', () => copyText($('yaml-text'), $('yaml-copied')))
}
