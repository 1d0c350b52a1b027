// test/issues/9-jwks-failure-log.test.ts: the line logged when a JWKS fetch fails says what is true (issue 9
// item 8): with keys cached, that they keep serving and for how long; with none cached, that tokens are
// answered 503 auth_unavailable until a fetch succeeds. Both name the next attempt, which comes that soon.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, test } from 'node:test'
import { pino } from 'pino'
import { startIdp, type Idp } from '../../testkit/idp/index.js'
import type { JwtProviderIR } from '../../policies/auth/options.js'
import { JwksCache, jwksMetrics } from '../../policies/auth/jwks.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { stageMetrics } from '../../runtime/stage-env.js'
import { sleep } from '../policies/fixtures.js'

const open: { close(): Promise<void> | void }[] = []
after(async () => { for (const o of open) await o.close() })

function cacheOver(idp: Idp, refreshMs: number): { cache: JwksCache; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() } })
  const p: JwtProviderIR = {
    kind: 'jwt', name: 'idp', issuer: idp.issuer, jwksUrl: idp.jwksUrl, refreshMs, refreshAheadMs: 0, unknownKidCooldownMs: 30_000,
    maxStaleMs: 3_600_000, fetchTimeoutMs: 300, algorithms: ['ES256'], audience: [], leewayMs: 0, forward: [], tokenCacheSize: 0,
    source: { file: 't.gwp', line: 1, col: 1, len: 1 },
  } as JwtProviderIR
  const metrics = jwksMetrics(stageMetrics(new GatewayMetrics({ defaultMetrics: false }), (_k, f) => f()), 'idp')
  const cache = new JwksCache(p, metrics, pino({ level: 'info' }, sink))
  open.push({ close: () => cache.stop() })
  return { cache, lines }
}

test('no keys cached: the failure line says tokens get 503 auth_unavailable, and when the next attempt is', async () => {
  const idp = await startIdp({ algorithms: ['ES256'] })
  open.push(idp)
  idp.setDown('error')
  const { cache, lines } = cacheOver(idp, 20_000)
  await cache.start()
  await sleep(20)
  assert.equal(lines.length, 1)
  const l = lines[0]
  assert.equal(l.level, 50, 'an outage with nothing to serve is an error')
  assert.equal(l.msg, 'JWKS fetch failed; no keys cached: tokens are answered 503 auth_unavailable until a fetch succeeds; next attempt in 2 s')
  assert.doesNotMatch(String(l.msg), /serving cached keys/)
  assert.equal(l.next_attempt_s, 2, 'a tenth of refresh 20s')
  assert.equal(l.err, 'JWKS answered 503')
  assert.equal(cache.retryAfterSeconds(), 2)
})

test('keys cached: the failure line says how many keep serving and for how long', async () => {
  const idp = await startIdp({ algorithms: ['ES256'] })
  open.push(idp)
  const { cache, lines } = cacheOver(idp, 1_000)
  await cache.start()
  assert.equal(lines.length, 0)
  idp.setDown('error')
  const t0 = performance.now()
  while (lines.length === 0 && performance.now() - t0 < 3000) await sleep(20)
  assert.equal(lines.length, 1, 'the background refresh (every 1 s) failed once')
  const l = lines[0]
  assert.equal(l.level, 40)
  assert.match(String(l.msg), /^JWKS fetch failed; serving 1 cached keys \(trusted for another 359\d s\); next attempt in 1 s$/)
  assert.equal(l.keys, 1)
})
