// bench/runtime/api-keys.bench.ts: the per-request cost of `auth` with a `keys` provider
// (policies/auth/keys-stage.ts, keys-file.ts): read the key from the raw header list or the query, SHA-256 it,
// one Map lookup among 10,000 listed keys; and the `auth a or b` dispatch in front of it (policies/auth/runtime.ts).
// Run: npm run build && node --expose-gc dist/bench/runtime/api-keys.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keyHash } from '../../policies/auth/keys-file.js'
import { createKeysStage } from '../../policies/auth/keys-stage.js'
import type { KeysProviderIR } from '../../policies/auth/options.js'
import { policy as auth } from '../../policies/auth/runtime.js'
import { CONTINUE } from '../../config/stage.js'
import { RequestContext } from '../../runtime/context.js'
import { Reply } from '../../runtime/reply.js'
import { fakeRequest, fakeResponse } from './kit/fake-http.js'
import { createBenchEnv } from './kit/stage-env.js'
import { createSuite } from './kit/suite.js'

const dir = mkdtempSync(join(tmpdir(), 'gwp-keys-bench-'))
const file = join(dir, 'keys.txt')
const keys = Array.from({ length: 10_000 }, (_, i) => `gwk_bench-key-${String(i).padStart(6, '0')}-abcdefghijklmnopqrstu`)
writeFileSync(file, keys.map((k, i) => `sha256:${keyHash(k)} consumer-${i}`).join('\n') + '\n')
const KEY = keys[4242]

const inHeader: KeysProviderIR = { kind: 'keys', name: 'partners', store: { kind: 'file', path: file }, key: { in: 'header', name: 'x-api-key' }, forwardConsumer: 'x-consumer-id', source: { file: 'bench.gwp', line: 1, col: 1 } }
const inQuery: KeysProviderIR = { ...inHeader, name: 'links', key: { in: 'query', name: 'api_key' } }
const jwt = { kind: 'jwt', name: 'idp', issuer: 'https://id.bench.test/', jwksUrl: 'http://127.0.0.1:9/jwks', refreshMs: 300_000, refreshAheadMs: 30_000, unknownKidCooldownMs: 30_000, maxStaleMs: 900_000, fetchTimeoutMs: 100, algorithms: ['ES256'], audience: [], leewayMs: 0, forward: [], tokenCacheSize: 0, source: inHeader.source }
const env = createBenchEnv({ declarations: [inHeader, inQuery, jwt], identityHeaders: ['x-consumer-id'] })
const byHeader = createKeysStage('keys_bench', inHeader, env)
const byQuery = createKeysStage('keys_bench_q', inQuery, env)
const either = auth.create({ route: 'keys_bench_or', provider: 'idp', or: ['partners'], audience: [] }, env)

const HEADERS: [string, string][] = [['Host', 'api.bench.test'], ['User-Agent', 'bench/1.0'], ['Accept', 'application/json'], ['Accept-Encoding', 'gzip'], ['Connection', 'keep-alive']]
const ctxWith = (headers: [string, string][], query = '') => {
  const c = new RequestContext(fakeRequest({ url: '/data' + query, headers: [...HEADERS, ...headers] }), fakeResponse().res, performance.now())
  c.query = query
  return c
}
const valid = ctxWith([['X-Api-Key', KEY]])
const unknown = ctxWith([['X-Api-Key', 'gwk_bench-key-none-00-abcdefghijklmnopqrstuv']])
const missing = ctxWith([])
const query = ctxWith([], `?page=2&api_key=${KEY}&sort=asc`)

assert.equal(byHeader(valid), CONTINUE)
assert.equal(valid.state.consumer, 'consumer-4242')
assert.ok(byHeader(unknown) instanceof Reply)
assert.ok(byHeader(missing) instanceof Reply)
assert.equal(byQuery(query), CONTINUE)
assert.equal(either(valid), CONTINUE)

const suite = createSuite(import.meta.url, 'API-key auth (10,000 keys listed)')
suite
  .add('keyHash: SHA-256 of a 44-char key', 'the hex digest string', () => keyHash(KEY))
  .add('keys stage, header: valid key', 'the digest string; the consumer and its identity headers were made at load', () => byHeader(valid))
  .add('keys stage, header: unknown key (401)', 'the digest string; the reply is prebuilt', () => byHeader(unknown))
  .add('keys stage, header: no key (401)', 'nothing: a scan of 5 raw headers', () => byHeader(missing))
  .add('keys stage, query: valid key among 3 parameters', 'the parameter name and value slices and the digest', () => byQuery(query))
  .add('auth idp or partners: key presented', 'as the header case, plus the Authorization check', () => either(valid))

await suite.run()
for (const v of env.sharedState.values()) (v as { stop?: () => void }).stop?.()
rmSync(dir, { recursive: true, force: true })
