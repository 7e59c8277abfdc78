const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Every certificate in a PEM bundle (ConfigMaps hold one or several, under any key). */
export function parsePemBundle (text: string): string[] {
  return text.match(PEM_CERTIFICATE) ?? []
}

/** A DER certificate as PEM, 64 columns, as AIO's custom authentication server expects in `certs`. */
export function derToPem (der: Buffer): string {
  const body = der.toString('base64').match(/.{1,64}/g)?.join('\n') ?? ''
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`
}
