import { ReasonCode, type AuthenticationMethod, type AuthnOutcome, type Credentials } from '../types.js'

/**
 * AIO's authentication flow over one BrokerAuthentication's methods, in their order: the first method to which the
 * credentials are relevant decides (pass or fail); when none finds them relevant, the device is refused.
 */
export async function authenticateInOrder (methods: readonly AuthenticationMethod[], credentials: Credentials, signal?: AbortSignal): Promise<AuthnOutcome & { method?: string }> {
  const skipped: string[] = []
  for (const m of methods) {
    const outcome = await m.authenticate(credentials, signal)
    if (outcome.kind !== 'irrelevant') return { ...outcome, method: m.method }
    skipped.push(m.method)
  }
  return {
    kind: 'fail',
    reasonCode: ReasonCode.NOT_AUTHORIZED,
    message: `no authentication method accepts these credentials (tried ${skipped.join(', ') || 'none'}: ${whatWasPresented(credentials)})`
  }
}

function whatWasPresented (c: Credentials): string {
  const parts = [
    c.certificate !== undefined ? 'a client certificate' : 'no client certificate',
    c.username !== undefined ? 'a user name' : 'no user name',
    ...(c.authenticationMethod !== undefined ? [`authentication method ${c.authenticationMethod}`] : [])
  ]
  return parts.join(', ')
}
