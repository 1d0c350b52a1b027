// test/testkit/idp.test.ts: the mock IdP over real sockets: JWKS content and headers, verification with jose for
// each algorithm, rotation overlap, fetch counting, down/delay modes, the forged tokens, load tokens and the CLI.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  compactVerify, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, EmbeddedJWK, importJWK, jwtVerify,
  type JWK, type JWTVerifyOptions,
} from 'jose'
import {
  algNone, attackerPublicJwk, attackTokens, badSignature, expired, hmacSecretFor, hs256WithPublicKey,
  notYetValid, readLoadTokens, startIdp, unknownKid, writeLoadTokens, wrongAudience, wrongIssuer, type Idp,
} from '../../testkit/idp/index.js'
import { repoPath } from '../helpers/paths.js'

const ALGS = ['RS256', 'ES256', 'EdDSA']
const AUD = 'shop-api'
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']

let idp: Idp
let dir: string
before(async () => {
  idp = await startIdp({ algorithms: ['RS256', 'ES256', 'EdDSA'], cacheMaxAge: 120 })
  dir = await mkdtemp(join(tmpdir(), 'gwp-idp-'))
})
after(async () => {
  await idp.close()
  await rm(dir, { recursive: true, force: true })
})

/** A fresh jose JWKS client per use, so one test's cache never hides another's fetches. */
const remote = (i: Idp, o: Parameters<typeof createRemoteJWKSet>[1] = {}) => createRemoteJWKSet(new URL(i.jwksUrl), o)
const verifyOpts = (i: Idp): JWTVerifyOptions => ({ issuer: i.issuer, audience: AUD, algorithms: ALGS })

test('JWKS holds public keys only, each with kid, alg and use "sig", plus Cache-Control and ETag', async () => {
  const res = await fetch(idp.jwksUrl)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'public, max-age=120')
  const etag = res.headers.get('etag')
  assert.match(etag ?? '', /^"[\w-]+"$/)
  const { keys } = (await res.json()) as { keys: JWK[] }
  assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'EdDSA', 'RS256'])
  for (const k of keys) {
    assert.equal(k.use, 'sig')
    assert.ok(k.kid, 'every key has a kid')
    for (const m of PRIVATE_MEMBERS) assert.equal(m in k, false, `${k.kid} must not publish private member ${m}`)
  }
  assert.deepEqual(new Set(keys.map((k) => k.kid)), new Set(idp.keys().map((k) => k.kid)))

  const again = await fetch(idp.jwksUrl, { headers: { 'if-none-match': etag ?? '' } })
  assert.equal(again.status, 304)
  assert.equal(again.headers.get('etag'), etag)
  const disco = (await (await fetch(`${idp.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>
  assert.deepEqual([disco.issuer, disco.jwks_uri], [idp.issuer, idp.jwksUrl])
})

test('tokens verify with createRemoteJWKSet + jwtVerify for each algorithm', async () => {
  const jwks = remote(idp)
  assert.equal(idp.issuer, `${idp.url}/`)
  for (const alg of idp.algorithms) {
    const token = await idp.sign({ tid: 'tenant-7' }, { alg, subject: 'alice', audience: AUD, expiresIn: '5m' })
    const { payload, protectedHeader } = await jwtVerify(token, jwks, verifyOpts(idp))
    assert.equal(protectedHeader.alg, alg)
    assert.equal(protectedHeader.kid, idp.keys().find((k) => k.alg === alg && k.current)?.kid)
    assert.equal(payload.sub, 'alice')
    assert.equal(payload.tid, 'tenant-7')
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 300)
  }
  assert.equal(decodeJwt(await idp.sign({}, { expiresIn: null })).exp, undefined)
  await assert.rejects(idp.sign({}, { kid: 'nope' }), /unknown kid/)
})

test('rotation keeps the old key published until retired; new tokens carry the new kid', async () => {
  const r = await startIdp({ algorithms: ['ES256', 'EdDSA'] })
  try {
    const oldKid = r.keys().find((k) => k.alg === 'ES256')!.kid
    const oldToken = await r.sign({}, { audience: AUD })
    const etag1 = (await fetch(r.jwksUrl)).headers.get('etag')

    const rotated = await r.rotate('ES256')
    assert.notEqual(rotated.kid, oldKid)
    const newToken = await r.sign({}, { audience: AUD })
    assert.equal(decodeProtectedHeader(newToken).kid, rotated.kid)
    assert.deepEqual(r.keys().filter((k) => k.alg === 'ES256').map((k) => [k.kid, k.current, k.published]),
      [[oldKid, false, true], [rotated.kid, true, true]])
    const overlap = remote(r)
    await jwtVerify(oldToken, overlap, verifyOpts(r)) // both verify during the overlap
    await jwtVerify(newToken, overlap, verifyOpts(r))
    assert.notEqual((await fetch(r.jwksUrl)).headers.get('etag'), etag1)

    assert.equal(r.retire(oldKid), true)
    assert.equal(r.retire(oldKid), false)
    assert.equal(r.jwks().keys.some((k) => k.kid === oldKid), false)
    const after = remote(r)
    await assert.rejects(jwtVerify(oldToken, after, verifyOpts(r)), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
    await jwtVerify(newToken, after, verifyOpts(r))
    // A retired key can still sign on request: "token from a retired key" is a case the gateway must reject.
    assert.equal(decodeProtectedHeader(await r.sign({}, { kid: oldKid })).kid, oldKid)

    assert.equal(r.retire(rotated.kid), true)
    await assert.rejects(r.sign({}, { alg: 'ES256' }), /retired/)
    await assert.rejects(r.rotate('RS256'), /not configured/)
  } finally { await r.close() }
})

test('fetch counter counts JWKS requests and resets', async () => {
  idp.resetFetches()
  assert.equal(idp.fetches, 0)
  const jwks = remote(idp)
  for (const alg of idp.algorithms) await jwtVerify(await idp.sign({}, { alg, audience: AUD }), jwks, verifyOpts(idp))
  assert.equal(idp.fetches, 1, 'jose caches the set: three verifications, one fetch')
  await jwks.reload()
  assert.equal(idp.fetches, 2)
  await fetch(`${idp.url}/admin/stats`)
  await fetch(`${idp.url}/.well-known/openid-configuration`)
  assert.equal(idp.fetches, 2, 'only JWKS requests count')
  idp.resetFetches()
  assert.equal(idp.fetches, 0)
})

test('down modes: error answers 503, refuse closes the connection, hang never answers', async () => {
  const token = await idp.sign({}, { audience: AUD })
  try {
    idp.resetFetches()
    idp.setDown('error')
    assert.equal((await fetch(idp.jwksUrl)).status, 503)
    await assert.rejects(jwtVerify(token, remote(idp), verifyOpts(idp)), { code: 'ERR_JOSE_GENERIC' })

    idp.setDown('refuse')
    await assert.rejects(fetch(idp.jwksUrl), TypeError) // undici: "fetch failed", cause: socket closed

    idp.setDown('hang')
    const t0 = performance.now()
    await assert.rejects(jwtVerify(token, remote(idp, { timeoutDuration: 200 }), verifyOpts(idp)), { code: 'ERR_JWKS_TIMEOUT' })
    assert.ok(performance.now() - t0 < 2000)
    const stats = (await (await fetch(`${idp.url}/admin/stats`)).json()) as { down: string }
    assert.equal(stats.down, 'hang', 'admin stays reachable while the JWKS hangs')
    assert.ok(idp.fetches >= 4, `every attempt is counted (got ${idp.fetches})`)
  } finally { idp.setDown(false) }
  await jwtVerify(token, remote(idp), verifyOpts(idp))
  assert.throws(() => idp.setDown('sideways' as never), /bad down mode/)
})

test('setDelay slows JWKS responses, not the rest of the IdP', async () => {
  try {
    idp.setDelay(300)
    const t0 = performance.now()
    const admin = await fetch(`${idp.url}/admin/stats`)
    assert.equal(admin.status, 200)
    const adminMs = performance.now() - t0
    const t1 = performance.now()
    assert.equal((await fetch(idp.jwksUrl)).status, 200)
    const jwksMs = performance.now() - t1
    assert.ok(jwksMs >= 280, `JWKS took ${jwksMs.toFixed(0)} ms, want >= 300`)
    assert.ok(adminMs < 280, `admin took ${adminMs.toFixed(0)} ms`)
  } finally { idp.setDelay(0) }
})

// The code says why jose refused each token, proving it failed for the intended reason and not as garbage.
const EXPECTED_CODE: Record<string, string> = {
  'alg-none': 'ERR_JOSE_ALG_NOT_ALLOWED',
  'hs256-public-key': 'ERR_JOSE_ALG_NOT_ALLOWED',
  'unknown-kid': 'ERR_JWKS_NO_MATCHING_KEY',
  'embedded-jwk': 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'bad-signature-RS256': 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'bad-signature-ES256': 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'bad-signature-EdDSA': 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'crit-unknown': 'ERR_JOSE_NOT_SUPPORTED',
  expired: 'ERR_JWT_EXPIRED',
  'not-yet-valid': 'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'wrong-issuer': 'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'wrong-audience': 'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'signed-payload-not-json': 'ERR_JWT_INVALID',
  'signed-payload-array': 'ERR_JWT_INVALID',
}

test('every attack token is rejected by jwtVerify with the JWKS and algorithms [RS256, ES256, EdDSA]', async () => {
  const attacks = await attackTokens(idp, { audience: AUD, subject: 'mallory' })
  const jwks = remote(idp)
  await jwtVerify(await idp.sign({ sub: 'alice' }, { audience: AUD }), jwks, verifyOpts(idp)) // the control passes
  for (const a of attacks) {
    await assert.rejects(jwtVerify(a.token, jwks, verifyOpts(idp)), (err: { code?: string }) => {
      const want = EXPECTED_CODE[a.name] ?? (a.name.startsWith('alg-') ? EXPECTED_CODE['alg-none'] : undefined)
      if (want !== undefined) assert.equal(err.code, want, `${a.name}: ${String(err)}`)
      else assert.match(String(err.code), /^ERR_J/, `${a.name}: ${String(err)}`)
      return true
    }, `${a.name} must be rejected`)
  }
  assert.equal(attacks.find((a) => a.name === 'wrong-audience')?.status, 403)
  assert.ok(attacks.filter((a) => a.name.startsWith('malformed-')).length >= 10)
  const huge = attacks.find((a) => a.name === 'malformed-huge-header')!
  assert.ok(huge.token.length > 8000 && huge.token.length < 14000, `huge header fits in Node's 16 KiB header limit (${huge.token.length})`)
})

test('forged tokens are well-formed attacks: each verifies once its one defect is allowed for', async () => {
  const claims = { iss: idp.issuer, aud: AUD, sub: 'mallory' }
  const rsa = idp.jwks().keys.find((k) => k.kty === 'RSA')!
  // algorithm confusion: a valid HS256 MAC under the public key's PEM bytes, naming the real kid
  const hs = await hs256WithPublicKey(claims, rsa)
  assert.deepEqual(decodeProtectedHeader(hs), { alg: 'HS256', typ: 'JWT', kid: rsa.kid })
  await jwtVerify(hs, hmacSecretFor(rsa), { algorithms: ['HS256'], issuer: idp.issuer, audience: AUD })
  // alg none: a proper unsecured JWT with an empty signature
  const none = algNone(claims)
  assert.ok(none.endsWith('.'))
  assert.equal(decodeJwt(none).sub, 'mallory')
  // unknown kid: validly signed by the attacker's key
  const uk = await unknownKid(claims)
  assert.equal(idp.jwks().keys.some((k) => k.kid === decodeProtectedHeader(uk).kid), false)
  await jwtVerify(uk, await importJWK(await attackerPublicJwk('RS256'), 'RS256'), { issuer: idp.issuer, audience: AUD })
  // bad signature: same header and payload, same length, only the signature differs
  const good = await idp.sign({}, { alg: 'ES256', audience: AUD })
  const bad = badSignature(good)
  assert.equal(bad.length, good.length)
  assert.equal(bad.slice(0, bad.lastIndexOf('.')), good.slice(0, good.lastIndexOf('.')))
  assert.notEqual(bad, good)
  // claim attacks are validly signed: they pass once the violated check is relaxed
  const jwks = remote(idp)
  const hour = 3600_000
  await jwtVerify(await expired(idp, {}, { audience: AUD }), jwks, { ...verifyOpts(idp), currentDate: new Date(Date.now() - 2 * hour) })
  await jwtVerify(await notYetValid(idp, {}, { audience: AUD }), jwks, { ...verifyOpts(idp), currentDate: new Date(Date.now() + 1.5 * hour) })
  await jwtVerify(await wrongIssuer(idp, {}, { audience: AUD }), jwks, { ...verifyOpts(idp), issuer: 'https://evil.example/' })
  await jwtVerify(await wrongAudience(idp, {}, { audience: AUD }), jwks, { ...verifyOpts(idp), audience: 'not-this-api' })
  // the embedded-jwk and crit attacks verify for a verifier with the matching weakness
  const attacks = Object.fromEntries((await attackTokens(idp, { audience: AUD })).map((a) => [a.name, a.token]))
  await jwtVerify(attacks['embedded-jwk'], EmbeddedJWK, { ...verifyOpts(idp) })
  await jwtVerify(attacks['crit-unknown'], jwks, { ...verifyOpts(idp), crit: { 'x-gwp-unknown': true } })
  await compactVerify(attacks['signed-payload-not-json'], jwks, { algorithms: ALGS })
})

test('load tokens mix users, tenants, keys and algorithms, and round-trip through a file', async () => {
  const out = join(dir, 'tokens.json')
  const file = await writeLoadTokens(idp, out, { count: 30, users: 12, tenants: 4, audience: AUD, ttl: '1h' })
  const back = await readLoadTokens(out)
  assert.equal(back.tokens.length, 30)
  assert.deepEqual(back.tokens, file.tokens)
  const published = idp.keys().filter((k) => k.published)
  assert.equal(new Set(back.tokens.map((t) => t.kid)).size, published.length)
  assert.deepEqual(new Set(back.tokens.map((t) => t.alg)), new Set(ALGS))
  assert.equal(new Set(back.tokens.map((t) => t.sub)).size, 12)
  assert.equal(new Set(back.tokens.map((t) => t.tid)).size, 4)
  const jwks = remote(idp)
  for (const t of back.tokens.slice(0, 6)) {
    const { payload, protectedHeader } = await jwtVerify(t.token, jwks, verifyOpts(idp))
    assert.deepEqual([payload.sub, payload.tid, protectedHeader.kid], [t.sub, t.tid, t.kid])
  }
})

/** Spawns the CLI and resolves with its printed `name value` lines once it prints `ready`. */
async function spawnCli(args: string[]) {
  const child = spawn(process.execPath, [repoPath('dist/testkit/idp/main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let outText = ''
  let errText = ''
  child.stderr.on('data', (d) => { errText += d })
  const lines = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      outText += d
      if (!/^ready$/m.test(outText)) return
      resolve(Object.fromEntries(outText.split('\n').map((l) => l.split(/\s+/)).filter((p) => p.length >= 2).map(([k, v]) => [k, v])))
    })
    child.once('exit', (code) => reject(new Error(`idp CLI exited ${code}: ${errText}`)))
  })
  return { child, lines }
}

test('CLI: listens, writes load tokens, answers the admin endpoints, exits 0 on SIGTERM', async () => {
  const out = join(dir, 'cli-tokens.json')
  const { child, lines } = await spawnCli(['--listen', '127.0.0.1:0', '--algs', 'ES256,EdDSA', '--tokens', '8', '--out', out, '--aud', AUD])
  try {
    const base = lines.idp
    assert.equal(lines.jwks, `${base}/.well-known/jwks.json`)
    assert.equal(lines.issuer, `${base}/`)
    const jwks = createRemoteJWKSet(new URL(lines.jwks))
    const opts = { issuer: lines.issuer, audience: AUD, algorithms: ALGS }
    const file = JSON.parse(await readFile(out, 'utf8')) as { tokens: { token: string }[] }
    assert.equal(file.tokens.length, 8)
    await jwtVerify(file.tokens[0].token, jwks, opts)

    const call = async (method: string, path: string) => {
      const res = await fetch(`${base}${path}`, { method })
      return { status: res.status, body: (await res.json()) as Record<string, any> }
    }
    const minted = await call('GET', `/admin/token?sub=bob&aud=${AUD}&tid=t9&alg=EdDSA&ttl=60`)
    assert.equal(minted.status, 200)
    const { payload } = await jwtVerify(minted.body.token, jwks, opts)
    assert.deepEqual([payload.sub, payload.tid, (payload.exp ?? 0) - (payload.iat ?? 0), minted.body.alg], ['bob', 't9', 60, 'EdDSA'])

    const rotated = await call('POST', '/admin/rotate?alg=es256')
    assert.equal(rotated.body.alg, 'ES256')
    const stats1 = await call('GET', '/admin/stats')
    assert.equal(stats1.body.keys.filter((k: { alg: string }) => k.alg === 'ES256').length, 2)
    assert.ok(stats1.body.fetches >= 1)
    const oldKid = stats1.body.keys.find((k: { alg: string; current: boolean }) => k.alg === 'ES256' && !k.current).kid
    assert.equal((await call('POST', `/admin/retire?kid=${oldKid}`)).status, 200)
    assert.equal((await call('POST', `/admin/retire?kid=${oldKid}`)).status, 404)

    assert.equal((await call('POST', '/admin/down?mode=error')).body.down, 'error')
    assert.equal((await fetch(lines.jwks)).status, 503)
    assert.equal((await call('POST', '/admin/down?mode=false')).body.down, false)
    assert.equal((await call('POST', '/admin/delay?ms=5')).body.delayMs, 5)
    assert.equal((await fetch(lines.jwks)).status, 200)
    assert.equal((await call('POST', '/admin/reset')).body.fetches, 0)

    assert.equal((await call('POST', '/admin/down?mode=sideways')).status, 400)
    assert.equal((await call('GET', '/admin/token?alg=HS256')).status, 400)
    assert.equal((await call('GET', '/admin/rotate')).status, 405)
    assert.equal((await call('GET', '/admin/nope')).status, 404)
  } finally {
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code] = await exited
    assert.equal(code, 0)
  }
})

test('CLI: bad usage exits 2 with the usage text', async () => {
  const child = spawn(process.execPath, [repoPath('dist/testkit/idp/main.js'), '--listen', 'nowhere'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d) => { err += d })
  const [code] = await once(child, 'exit')
  assert.equal(code, 2)
  assert.match(err, /bad --listen/)
  assert.match(err, /usage:/)
})
