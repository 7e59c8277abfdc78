import { $, copyText } from './dom.js'

// A listener port with `tls.mode: Automatic` serves a certificate from Flowgate's own CA; devices need that CA
// (public, from the listener's status) to trust it. Nothing secret passes through here: only the CA certificate.

let downloadName = 'ca.pem'

/** The PEM for one port: per port in status.ports[], or one for the listener in status.caCertificate. */
export function caCertificateOf (listener, port) {
  const entry = listener.status?.ports?.find((p) => p.port === port)
  return entry?.caCertificate ?? listener.status?.caCertificate
}

export function showCaCertificate (listener, port) {
  const id = `${listener.metadata.namespace}/${listener.metadata.name}`
  const pem = caCertificateOf(listener, port)
  $('ca-title').textContent = `CA certificate for ${id} port ${port}`
  $('ca-text').textContent = pem ?? ''
  $('ca-text').hidden = pem === undefined
  $('ca-missing').hidden = pem !== undefined
  $('ca-copy').disabled = pem === undefined
  $('ca-download').disabled = pem === undefined
  $('ca-copied').textContent = ''
  downloadName = `${listener.metadata.name}-${port}-ca.pem`
  $('ca-dialog').showModal()
}

function download () {
  const url = URL.createObjectURL(new Blob([$('ca-text').textContent], { type: 'application/x-pem-file' }))
  const a = document.createElement('a')
  a.href = url
  a.download = downloadName
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export function initCaDialog () {
  $('ca-copy').addEventListener('click', () => copyText($('ca-text'), $('ca-copied')))
  $('ca-download').addEventListener('click', download)
}
