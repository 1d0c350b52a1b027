// A mock IdP plus a gateway with one jwt provider over it, for the JWKS cache tests: each test gets its own
// IdP (so fetch counts are its own) and its own provider settings (`jwks "…" <options>`).
import { startIdp, type Idp, type IdpAlg } from '../../testkit/idp/index.js'
import type { Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { addrs, agent, bearer, send, type Answer } from './fixtures.js'

export interface JwtRig {
  idp: Idp
  gw: TestGateway
  /** GET /api/status/200 with this bearer token. */
  call(token: string): Promise<Answer>
  /** A fresh token (unique subject, so it is never a verified-token cache hit) from the current key of `alg`. */
  token(opts?: { alg?: IdpAlg; kid?: string }): Promise<string>
  close(): Promise<void>
}

let seq = 0

/**
 * Starts an IdP (ES256 keys by default: keygen is instant) and a gateway whose provider reads its JWKS with
 * `jwksOptions` (e.g. `refresh 1s unknown_kid_cooldown 1s`), route `api` on /api with `timeout`.
 */
export async function startJwtRig(stub: Stub, jwksOptions: string, o: { algs?: IdpAlg[]; timeout?: string; idp?: Idp } = {}): Promise<JwtRig> {
  const idp = o.idp ?? await startIdp({ algorithms: o.algs ?? ['ES256'] })
  let gw: TestGateway
  try {
    gw = await startGateway(`
upstream web { replicas ${addrs(stub)} }
jwt idp {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" ${jwksOptions}
  algorithms ${idp.algorithms.join(' ')}
}
route api { match path prefix "/api"; auth idp; timeout ${o.timeout ?? '5s'}; proxy web }
`)
  } catch (e) { await idp.close(); throw e }
  const ua = agent(128)
  return {
    idp, gw,
    call: token => send(ua, gw.url + '/api/status/200', { headers: bearer(token) }),
    token: (t = {}) => idp.sign({}, { subject: `user-${++seq}`, ...t }),
    async close() {
      await ua.destroy().catch(() => undefined)
      await gw.close()
      await idp.close()
    },
  }
}
