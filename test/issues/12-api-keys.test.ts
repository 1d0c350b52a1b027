// test/issues/12-api-keys.test.ts: API-key auth (issue 12 item 4) through real sockets: a `keys` provider with
// keys in a header or a query parameter, removed before the request goes upstream (issue 11: what a stage
// consumes is descriptor data); the consumer forwarded and rate-limited; wrong, missing and duplicate keys
// refused with the standard 401; the keys file reloaded on change; `auth idp or keys`; `gwc keys add`.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { startIdp, type Idp } from '../../testkit/idp/index.js'
import { keysCommand } from '../../policies/auth/keys-command.js'
import { keyHash } from '../../policies/auth/keys-file.js'
import { bundleFrom, startGateway, type TestGateway } from '../helpers/gateway.js'
import { runSuite } from '../../runtime/offline.js'
import { readSpecText } from '../../compiler/tools/test-spec.js'
import { repoPath } from '../helpers/paths.js'
import { agent, send, waitFor } from '../policies/fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'gwp-keys-'))
const keysFile = join(dir, 'keys.txt')
const ACME = 'gwk_acme-key-0123456789abcdefghijklmnopqrstuv'
const GLOBEX = 'gwk_globex-key-0123456789abcdefghijklmnopqrst'
/** A key holding `+` (a keys file lists hashes, so any key can be listed): in a query `+` stays a plus. */
const PLUS = 'gwk_plus+key-0123456789abcdefghijklmnopqrstuv'
const ua = agent()

/** What the upstream received, by request. */
const seen: { url: string; headers: IncomingHttpHeaders }[] = []
let upstream: Server
let idp: Idp
let gw: TestGateway

before(async () => {
  writeFileSync(keysFile, `# test keys\nsha256:${keyHash(ACME)} acme\nsha256:${keyHash(GLOBEX)} globex\nsha256:${keyHash(PLUS)} plus\n`)
  upstream = createServer((req, res) => { seen.push({ url: req.url!, headers: req.headers }); res.end('ok') })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  idp = await startIdp({ algorithms: ['ES256'] })
  const port = (upstream.address() as { port: number }).port
  gw = await startGateway(`
upstream web { replicas 127.0.0.1:${port} }
jwt idp {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m
  forward claim sub as X-User-Id
}
keys partners {
  file "${keysFile}"
  header X-Api-Key
  forward consumer as X-Consumer-Id
}
keys links {
  file "${keysFile}"
  query api_key
}
route by_header { match path prefix "/h"; auth partners; timeout 2s; proxy web }
route by_query { match path prefix "/q"; auth links; timeout 2s; proxy web }
route either { match path prefix "/either"; auth idp or partners; timeout 2s; proxy web }
route limited { match path prefix "/limited"; auth partners; ratelimit by consumer 2 per 1m; timeout 2s; proxy web }
route jwt_only { match path prefix "/jwt"; auth idp; timeout 2s; proxy web }
`)
})

after(async () => {
  await gw.close()
  await ua.close()
  await idp.close()
  await new Promise(r => upstream.close(r))
  rmSync(dir, { recursive: true, force: true })
})

const last = () => seen[seen.length - 1]
/** GET with headers given as a raw list (so one name can repeat). */
async function get(path: string, headers: Record<string, string> | string[] = {}) {
  const before = seen.length
  const a = await send(ua, gw.url + path, { headers: headers as Record<string, string> })
  return { ...a, reached: seen.length > before }
}

test('a valid key in a header: 200, the consumer forwarded, the key and a client-sent consumer header not', async () => {
  const a = await get('/h/x', { 'x-api-key': ACME, 'x-consumer-id': 'spoofed' })
  assert.equal(a.status, 200)
  assert.equal(last().headers['x-consumer-id'], 'acme')
  assert.equal(last().headers['x-api-key'], undefined)
})

test('a valid key in the query: 200, the parameter removed upstream (also under an encoded name), the rest kept', async () => {
  let a = await get(`/q/items?page=2&api_key=${ACME}&sort=asc`)
  assert.equal(a.status, 200)
  assert.equal(last().url, '/q/items?page=2&sort=asc')
  a = await get(`/q/items?api%5Fkey=${GLOBEX}`)
  assert.equal(a.status, 200)
  assert.equal(last().url, '/q/items')
})

test('a key in the query reads `+` as a plus, not a space (unlike match query): as sent or as %2B, removed upstream both ways', async () => {
  let a = await get(`/q/items?api_key=${PLUS}&sort=asc`)
  assert.equal(a.status, 200)
  assert.equal(last().url, '/q/items?sort=asc')
  a = await get(`/q/items?sort=asc&api_key=${PLUS.replace('+', '%2B')}`)
  assert.equal(a.status, 200)
  assert.equal(last().url, '/q/items?sort=asc')
  a = await get(`/q/items?api_key=${PLUS.replace('+', '%20')}`)
  assert.equal(a.status, 401, 'a space is not the plus of the key')
  assert.equal(a.reached, false)
  // a parameter the reader does not take as the key's (`+` in the name is not `_`; a name that does not decode)
  // is not removed either: what is removed is exactly what the stage would read
  a = await get(`/q/items?api_key=${ACME}&api+key=x&api%zzkey=y`)
  assert.equal(a.status, 200)
  assert.equal(last().url, '/q/items?api+key=x&api%zzkey=y')
})

test('wrong, missing, empty, duplicate and oversized keys: 401 with the standard body, nothing forwarded', async () => {
  const jwtRefusal = await get('/jwt/x')
  assert.equal(jwtRefusal.status, 401)
  const standard = Object.keys(JSON.parse(jwtRefusal.text)).sort()
  const cases: [string, string | string[] | Record<string, string>][] = [
    ['/h/x', { 'x-api-key': 'gwk_not-a-key-anyone-was-given-0123456789' }],
    ['/h/x', {}],
    ['/h/x', { 'x-api-key': '' }],
    ['/h/x', ['x-api-key', ACME, 'x-api-key', ACME]],
    ['/h/x', ['X-Api-Key', ACME, 'x-api-key', GLOBEX]],
    ['/h/x', { 'x-api-key': 'k'.repeat(600) }],
    [`/q/x?api_key=${ACME}&api_key=${ACME}`, {}],
    [`/q/x?api_key=${ACME}&api%5fkey=${GLOBEX}`, {}],
    ['/q/x?api_key=%zz', {}],
    [`/q/x?api_key=${ACME}%zz`, {}],
    [`/q/x?api_key=%zz&api_key=${ACME}`, {}],
    [`/q/x?api_key=${ACME}&api_key=%zz`, {}],
    ['/q/x?api_key', {}],
    [`/q/x?API_KEY=${ACME}`, {}],
  ]
  for (const [path, headers] of cases) {
    const a = await get(path, headers as Record<string, string>)
    assert.equal(a.status, 401, `${path} ${JSON.stringify(headers)}`)
    assert.equal(a.reached, false)
    const body = JSON.parse(a.text)
    assert.equal(body.error, 'unauthorized')
    assert.deepEqual(Object.keys(body).sort(), standard, 'the same body as a JWT refusal')
  }
})

test('the keys file changed on disk: a new key works without a restart, a removed one stops working', async () => {
  const fresh = 'gwk_fresh-key-0123456789abcdefghijklmnopqrstu'
  assert.equal((await get('/h/x', { 'x-api-key': fresh })).status, 401)
  appendFileSync(keysFile, `sha256:${keyHash(fresh)} initech\n`)
  await waitFor(async () => (await get('/h/x', { 'x-api-key': fresh })).status === 200, 5000, 'the new key to be accepted')
  assert.equal(last().headers['x-consumer-id'], 'initech')
  // a broken edit keeps the keys already loaded
  const good = readFileSync(keysFile, 'utf8')
  writeFileSync(keysFile, good + 'this is not a hash line\n')
  await new Promise(r => setTimeout(r, 1500))
  assert.equal((await get('/h/x', { 'x-api-key': fresh })).status, 200)
  // revoking: the line removed (written as a new file, as an editor does)
  writeFileSync(join(dir, 'keys.new'), good.split('\n').filter(l => !l.endsWith(' initech')).join('\n'))
  spawnSync('mv', [join(dir, 'keys.new'), keysFile])
  await waitFor(async () => (await get('/h/x', { 'x-api-key': fresh })).status === 401, 5000, 'the removed key to be refused')
  assert.equal((await get('/h/x', { 'x-api-key': ACME })).status, 200)
})

test('auth idp or partners: either credential works; when both are presented the first provider named decides', async () => {
  const token = await idp.sign({}, { subject: 'alice' })
  let a = await get('/either/x', { authorization: `Bearer ${token}` })
  assert.equal(a.status, 200)
  assert.equal(last().headers['x-user-id'], 'alice')
  assert.equal(last().headers.authorization, undefined)
  a = await get('/either/x', { 'x-api-key': ACME })
  assert.equal(a.status, 200)
  assert.equal(last().headers['x-consumer-id'], 'acme')
  // both: idp (named first) decides, and neither credential goes upstream
  a = await get('/either/x', { authorization: `Bearer ${token}`, 'x-api-key': 'gwk_wrong-key-000000000000000000000000000000' })
  assert.equal(a.status, 200)
  assert.equal(last().headers['x-api-key'], undefined)
  assert.equal(last().headers.authorization, undefined)
  a = await get('/either/x', { authorization: 'Bearer not.a.token', 'x-api-key': ACME })
  assert.equal(a.status, 401)
  assert.equal((await get('/either/x')).status, 401)
})

test('ratelimit by consumer counts per key consumer', async () => {
  const statuses = []
  for (const k of [ACME, ACME, ACME, GLOBEX]) statuses.push((await get('/limited/x', { 'x-api-key': k })).status)
  assert.deepEqual(statuses, [200, 200, 429, 200])
})

test('`ratelimit by consumer` needs an auth with a keys provider before it (E0403)', () => {
  const check = (route: string) => compile(['p.gwp'], { host: memoryHost({ 'p.gwp': `
jwt idp { issuer "https://i/"; jwks "https://i/k" refresh 5m }
keys partners { file "/k.txt" }
route r { match path "/"; ${route}; timeout 1s; respond 200 }` }) }).diagnostics.filter(d => d.severity === 'error').map(d => d.code)
  assert.deepEqual(check('auth partners; ratelimit by consumer 1 per 1s'), [])
  assert.deepEqual(check('ratelimit by consumer 1 per 1s; auth partners'), ['E0403'])
  assert.deepEqual(check('auth idp; ratelimit by consumer 1 per 1s'), ['E0403'])
  // a request through `idp or partners` may carry no consumer (nor claims)
  assert.deepEqual(check('auth idp or partners; ratelimit by consumer 1 per 1s'), ['E0403'])
  assert.deepEqual(check('auth idp or partners; ratelimit by user 1 per 1s'), ['E0403'])
})

test('gwc keys add: prints a key once, stores only its hash, and the gateway accepts the key', async () => {
  const p = spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), 'keys', 'add', keysFile, 'hooli'], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(p.status, 0, p.stderr)
  const key = p.stdout.trim()
  assert.match(key, /^gwk_[A-Za-z0-9_-]{43}$/)
  const text = readFileSync(keysFile, 'utf8')
  assert.equal(text.includes(key), false, 'the file holds no plain key')
  assert.ok(text.includes(`sha256:${keyHash(key)} hooli`))
  await waitFor(async () => (await get('/h/x', { 'x-api-key': key })).status === 200, 5000, 'the added key to be accepted')
  assert.equal(last().headers['x-consumer-id'], 'hooli')
  // bad usage and a broken file are refused, the file untouched
  assert.equal(keysCommand.run(['add', keysFile, 'no spaces allowed']).code, 2)
  const broken = join(dir, 'broken.txt')
  writeFileSync(broken, 'plain-key-by-mistake acme\n')
  assert.equal(keysCommand.run(['add', broken, 'x']).code, 1)
  assert.equal(readFileSync(broken, 'utf8'), 'plain-key-by-mistake acme\n')
})

test('gwc test: a case declaring `consumer:` stands in for the key store; the gateway\'s own refusals, identity header and key removal', () => {
  const b = bundleFrom(`
upstream web { replicas 127.0.0.1:9 }
keys partners { redis "gwp:keys:p"; query api_key; forward consumer as X-Consumer-Id }
route r { match path prefix "/"; auth partners; ratelimit by consumer 1 per 1m; timeout 1s; proxy web }
`)
  const spec = readSpecText(`
cases:
  - request: GET http://h/x?api_key=anything&page=2
    consumer: acme
    headers: { X-Consumer-Id: spoofed }
    expect: { status: 200, stages: [auth, ratelimit, proxy], forwarded: { x-consumer-id: acme } }
  - request: GET http://h/x?api_key=anything
    expect: { status: 401, stages: [auth] }
  - request: GET http://h/x?api_key=a&api_key=b
    consumer: acme
    expect: { status: 401 }
  - request: GET http://h/x
    consumer: acme
    expect: { status: 401 }
  - request: GET http://h/x?api_key=k
    consumer: acme
    repeat: 2
    expect: { status: 429 }
`, 'spec.yaml')
  assert.deepEqual(spec.diagnostics, [])
  const res = runSuite(b.manifest, b.moduleText, spec.cases)
  assert.deepEqual(res.cases.map(c => [c.ok, c.status, c.failures]), [[true, 200, []], [true, 401, []], [true, 401, []], [true, 401, []], [true, 429, []]])
  const bad = readSpecText('cases:\n  - request: GET http://h/x\n    consumer: "no spaces"\n    expect: { status: 401 }\n', 'spec.yaml')
  assert.deepEqual(bad.diagnostics.map(d => d.code), ['E0306'])
})
