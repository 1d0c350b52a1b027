// Issue 11: `gwc test` runs the gateway's own stages (one stage build, runtime/stages.ts), overriding only the
// token check and the upstream call: a 429 offline is the gateway's 429, and a limit keyed by an identity header
// counts the verified claim, not the client's copy. Before, offline re-implemented the rate limit (its 429 had
// only Retry-After) and the key choice.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runSuite } from '../../runtime/offline.js'
import { bundleFrom } from '../helpers/gateway.js'

const POLICY = `
upstream api { replicas 127.0.0.1:1 }
jwt idp { issuer "https://id.example.com/"; jwks "https://id.example.com/jwks" refresh 5m; audience "api"; forward claim tid as X-Tenant }
route tenants { match path "/t"; auth idp; ratelimit by header X-Tenant 1 per 1m; timeout 1s; proxy api }
`

test("a rate limit offline answers with the gateway's headers and keys on the verified identity", () => {
  const b = bundleFrom(POLICY)
  const res = runSuite(b.manifest, b.moduleText, [
    { name: 'burst', request: 'GET http://x.test/t', as: { sub: 'u1', tid: 'acme', aud: 'api' }, repeat: 2,
      expect: { status: 429, stages: ['auth', 'ratelimit'], headers: { 'retry-after': '60', 'ratelimit-policy': '"header";q=1;w=60', ratelimit: '"header";r=0;t=60' } } },
    { name: 'spoofed tenant', request: 'GET http://x.test/t', headers: { 'X-Tenant': 'acme' }, as: { sub: 'u2', tid: 'globex', aud: 'api' },
      expect: { status: 200, forwarded: { 'X-Tenant': 'globex' } } },
  ])
  assert.deepEqual(res.cases.filter(c => !c.ok).map(c => `${c.name}: ${c.failures.join('; ')}`), [])
})
