// test/issues/14-edge-replies.test.ts: the refusals the mutation run (lab/mutation, area edge) found without a
// fast test of their exact answer: 503 auth_unavailable (the JWKS cannot be fetched), 503
// rate_limit_unavailable (Redis does not answer, fail_closed), 500 internal_error (a route handler that throws
// or rejects), and the answers runtime/server.ts writes on the bare socket (the parser's 400 and 431, the 408,
// the upgrade 501 and CONNECT 405) with their status line, reason counter and access line. Each is checked on
// the wire: status line, Content-Type, Retry-After where promised, the exact JSON body {"error","request_id"}
// and X-Request-Id equal to the body's id, and the access-log line's status. The dependencies are made
// unavailable without waiting: the JWKS URL and Redis are dead addresses (refused).
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { pino } from 'pino'
import { startIdp, type Idp } from '../../testkit/idp/index.js'
import { loadSettings } from '../../config/settings.js'
import { serve, type Running } from '../../runtime/serve.js'
import { deadAddress, deadUrl } from '../helpers/dead-address.js'
import { bundleFrom, metric } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { wireExchange } from '../helpers/wire.js'
import { rawRequest, type RawResponse } from '../runtime/fixtures.js'
import { accessLine as readAccessLine } from '../helpers/access-log.js'

let idp: Idp
/** An upstream that reads requests and never answers. */
let stalling: RecordingUpstream
let gw: Running
let port: number
const logFile = join(mkdtempSync(join(tmpdir(), 'gwp-edge-replies-')), 'access.log')

const POLICY = (idp: Idp, held: string) => `
jwt idp {
  issuer "${idp.issuer}"
  jwks "${deadUrl(0)}/jwks.json" refresh 5m
}
jwt live {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m
}
upstream held { replicas ${held}; pool connections 1 }
route authed { match path "/authed"; auth idp; timeout 2s; respond 200 text "in" }
route audience { match path "/audience"; auth live audience "other-api"; timeout 2s; respond 200 text "in" }
route local { match path "/local"; ratelimit by ip 1 per 1h; timeout 2s; respond 200 text "in" }
route hold { match path "/hold"; timeout 5s; proxy held }
route queued { match path "/queued"; timeout 300ms; proxy held }
route limited { match path "/limited"; ratelimit by ip 3 per 1m redis fail_closed; timeout 2s; respond 200 text "in" }
route boom { match path "/boom"; timeout 2s; respond 200 text "never" }
route reject { match path "/reject"; timeout 2s; respond 200 text "never" }
`

/**
 * The policy's bundle with two handlers replaced: `boom` throws and `reject` returns a rejected promise (no
 * policy can make a handler fail; the bundle is what gwc emitted, altered after its check, as a bug would).
 */
function brokenBundle(idp: Idp, held: string) {
  const b = bundleFrom(POLICY(idp, held))
  const swap = (text: string, route: string, body: string) => {
    const re = new RegExp(`(// route ${route} \\(test\\.gwp:\\d+:\\d+\\)\\nfunction (route\\d+)\\(ctx\\) \\{\\n)`)
    assert.match(text, re, `generated code for route ${route}`)
    return text.replace(re, `$1  ${body}\n`)
  }
  let moduleText = swap(b.moduleText, 'boom', 'throw new Error("test: a handler that throws")')
  moduleText = swap(moduleText, 'reject', 'return Promise.reject(new Error("test: a handler that rejects"))')
  return { manifest: b.manifest, moduleText }
}

before(async () => {
  idp = await startIdp({ algorithms: ['ES256'] })
  stalling = await startRecordingUpstream(1)
  stalling.replicas[0].behave({ kind: 'stall' })
  const settings = loadSettings(undefined, {
    listen: '127.0.0.1:0', admin: '127.0.0.1:0', logLevel: 'silent', accessLog: true, logDestination: logFile,
    redisUrl: `redis://${deadAddress(1)}`, redisTimeoutMs: 100, headersTimeoutMs: 1000, maxHeaderBytes: 4096,
  })
  const bundle = brokenBundle(idp, stalling.addrs)
  gw = await serve(settings, { load: async () => bundle }, { log: pino({ level: 'silent' }) })
  port = gw.address.port
})
after(async () => { await gw?.shutdown('test'); await idp?.close(); await stalling?.close() })

const accessLine = (id: string) => readAccessLine(logFile, id)

/** Asserts the exact error answer: status, JSON type, body {"error","request_id"} with X-Request-Id, access line. */
async function assertRefusal(r: RawResponse, status: number, error: string, retryAfter?: RegExp) {
  assert.equal(r.status, status, r.text)
  assert.equal(r.headers['content-type'], 'application/json', r.text)
  const id = r.headers['x-request-id']
  assert.ok(typeof id === 'string' && id !== '', `X-Request-Id: ${r.text}`)
  assert.equal(r.body, `{"error":"${error}","request_id":"${id}"}`)
  if (retryAfter === undefined) assert.equal(r.headers['retry-after'], undefined, 'no Retry-After')
  else assert.match(String(r.headers['retry-after']), retryAfter, 'Retry-After')
  const line = await accessLine(id)
  assert.ok(line !== undefined, `an access-log line for ${id}`)
  assert.equal(line.status, status)
}

test('no token gets 401 {"error":"unauthorized"} with WWW-Authenticate: Bearer; a valid token for another audience 403 {"error":"forbidden"}', async () => {
  const none = await rawRequest(port, 'GET /authed HTTP/1.1\r\nHost: a.test\r\n\r\n', { waitMs: 3000 })
  await assertRefusal(none, 401, 'unauthorized')
  assert.equal(none.headers['www-authenticate'], 'Bearer')
  const token = await idp.sign({}, { subject: 'alice' })
  const other = await rawRequest(port, `GET /audience HTTP/1.1\r\nHost: a.test\r\nAuthorization: Bearer ${token}\r\n\r\n`, { waitMs: 3000 })
  await assertRefusal(other, 403, 'forbidden')
})

test('over a rate limit: 429 {"error":"rate_limited"} with Retry-After', async () => {
  const first = await rawRequest(port, 'GET /local HTTP/1.1\r\nHost: a.test\r\n\r\n', { waitMs: 3000 })
  assert.equal(first.status, 200)
  const second = await rawRequest(port, 'GET /local HTTP/1.1\r\nHost: a.test\r\n\r\n', { waitMs: 3000 })
  await assertRefusal(second, 429, 'rate_limited', /^[1-9]\d*$/)
})

test('the route timeout while every pool connection is busy: 503 {"error":"upstream_pool_exhausted"} with Retry-After: 1', async () => {
  const hold = rawRequest(port, 'GET /hold HTTP/1.1\r\nHost: a.test\r\n\r\n', { waitMs: 1500 })
  for (let i = 0; i < 100 && stalling.received.length === 0; i++) await new Promise(r => setTimeout(r, 20))
  assert.equal(stalling.received.length, 1, 'the held request reached the upstream')
  const r = await rawRequest(port, 'GET /queued HTTP/1.1\r\nHost: a.test\r\n\r\n', { waitMs: 2000 })
  await assertRefusal(r, 503, 'upstream_pool_exhausted', /^1$/)
  await hold
})

test('a token whose signing keys cannot be fetched gets 503 {"error":"auth_unavailable"} with Retry-After', async () => {
  const token = await idp.sign({}, { subject: 'alice' })
  const r = await rawRequest(port, `GET /authed HTTP/1.1\r\nHost: a.test\r\nAuthorization: Bearer ${token}\r\n\r\n`, { waitMs: 3000 })
  // Retry-After: the seconds until the next fetch attempt (policies/jwt)
  await assertRefusal(r, 503, 'auth_unavailable', /^[1-9]\d*$/)
})

test('a fail_closed Redis limit while Redis is unreachable gets 503 {"error":"rate_limit_unavailable"} with Retry-After: 1', async () => {
  const r = await rawRequest(port, 'GET /limited HTTP/1.1\r\nHost: a.test\r\nX-Request-Id: limit-1\r\n\r\n', { waitMs: 3000 })
  await assertRefusal(r, 503, 'rate_limit_unavailable', /^1$/)
  assert.equal(r.headers['x-request-id'], 'limit-1', 'the client\'s request id is kept')
})

test('a route handler that throws, or rejects, gets 500 {"error":"internal_error"} and the gateway keeps serving', async () => {
  for (const path of ['/boom', '/reject']) {
    const r = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: a.test\r\n\r\n`, { waitMs: 3000 })
    await assertRefusal(r, 500, 'internal_error')
  }
  const ok = await rawRequest(port, 'GET /nothing HTTP/1.1\r\nHost: a.test\r\n\r\n', { waitMs: 3000 })
  assert.equal(ok.status, 404, 'still serving')
})

/** gw_rejected_requests_total by reason, from the admin /metrics. */
async function rejected(reason: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${gw.adminAddress!.port}/metrics`)
  return metric(await res.text(), 'gw_rejected_requests_total', { reason }) ?? 0
}

interface RawRow { what: string; raw: string; statusLine: string; error: string; reason: string; id?: string; notId?: string; log?: Record<string, unknown> }
const RAW: RawRow[] = [
  { what: 'not HTTP', raw: 'GARBAGE\r\n\r\n', statusLine: 'HTTP/1.1 400 Bad Request', error: 'bad_request', reason: 'malformed', log: { method: '', host: '', path: '', ip: '127.0.0.1' } },
  // the strict parser refuses a control character in a header value (insecureHTTPParser would take it)
  { what: 'DEL in a header value', raw: 'GET / HTTP/1.1\r\nHost: a.test\r\nX-A: a\x7fb\r\n\r\n', statusLine: 'HTTP/1.1 400 Bad Request', error: 'bad_request', reason: 'malformed' },
  { what: 'header block over maxHeaderBytes', raw: `GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`, statusLine: 'HTTP/1.1 431 Request Header Fields Too Large', error: 'headers_too_large', reason: 'headers_too_large' },
  { what: 'head not finished within headersTimeout', raw: 'GET / HTTP/1.1\r\nHost: a.test\r\nX-Slow: 1\r\n', statusLine: 'HTTP/1.1 408 Request Timeout', error: 'request_timeout', reason: 'request_timeout' },
  {
    what: 'WebSocket upgrade', raw: 'GET /chat?token=secret HTTP/1.1\r\nHost: Shop.TEST\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Request-Id: up-1\r\n\r\n',
    statusLine: 'HTTP/1.1 501 Not Implemented', error: 'upgrade_not_supported', reason: 'upgrade', id: 'up-1',
    log: { method: 'GET', host: 'shop.test', path: '/chat', ip: '127.0.0.1' },
  },
  {
    what: 'upgrade with a request id that is not sane', raw: 'GET /chat HTTP/1.1\r\nHost: shop.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Request-Id: a b<c>\r\n\r\n',
    statusLine: 'HTTP/1.1 501 Not Implemented', error: 'upgrade_not_supported', reason: 'upgrade', notId: 'a b<c>',
  },
  {
    what: 'CONNECT', raw: 'CONNECT shop.test:443 HTTP/1.1\r\nHost: shop.test:443\r\nX-Request-Id: con-1\r\n\r\n',
    statusLine: 'HTTP/1.1 405 Method Not Allowed', error: 'method_not_allowed', reason: 'connect', id: 'con-1',
    log: { method: 'CONNECT', host: 'shop.test:443', path: 'shop.test:443' },
  },
]

for (const row of RAW) {
  test(`on the bare socket: ${row.what} gets "${row.statusLine}" {"error":"${row.error}"}, the connection closed, counted as ${row.reason}`, async () => {
    const before = await rejected(row.reason)
    const r = await rawRequest(port, row.raw, { waitMs: 4000, untilClose: true })
    assert.equal(r.text.slice(0, r.text.indexOf('\r\n')), row.statusLine, r.text)
    assert.ok(r.closed, 'the gateway closes the connection')
    assert.equal(r.headers.connection, 'close')
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)))
    await assertRefusal(r, Number(row.statusLine.split(' ')[1]), row.error)
    if (row.id !== undefined) assert.equal(r.headers['x-request-id'], row.id, 'the client\'s request id is kept')
    if (row.notId !== undefined) assert.notEqual(r.headers['x-request-id'], row.notId, 'an insane request id is replaced')
    if (row.log !== undefined) {
      const line = await accessLine(String(r.headers['x-request-id']))
      for (const [k, v] of Object.entries(row.log)) assert.equal(line?.[k], v, `access line ${k}: ${JSON.stringify(line)}`)
    }
    assert.equal(await rejected(row.reason), before + 1, `gw_rejected_requests_total{reason="${row.reason}"}`)
  })
}

test('a client that resets its connection mid-head gets no answer and is not counted as malformed', async () => {
  const before = await rejected('malformed')
  for (let i = 0; i < 3; i++) {
    const sock = connect(port, '127.0.0.1')
    sock.on('error', () => undefined)
    await new Promise<void>(res => sock.once('connect', () => res()))
    sock.write('GET / HTTP/1.1\r\nHost: a.test\r\nX-Half')
    await new Promise(res => setTimeout(res, 50))
    sock.resetAndDestroy()
  }
  await new Promise(res => setTimeout(res, 200))
  assert.equal(await rejected('malformed'), before)
})

test('a socket error that is not a reset (here ETIMEDOUT on an idle connection) closes it without an answer, a count or an access line', async () => {
  const before = await rejected('malformed')
  // the kernel's errors reach node:http as the socket's 'error' (it is destroyed with it): simulate one
  gw.server.once('connection', (s: import('node:net').Socket) => {
    setTimeout(() => s.destroy(Object.assign(new Error('simulated: connection timed out'), { code: 'ETIMEDOUT' })), 50)
  })
  const r = await rawRequest(port, [], { waitMs: 2000, untilClose: true })
  assert.ok(r.closed, 'closed')
  assert.equal(r.text, '', 'no answer')
  await new Promise(res => setTimeout(res, 100))
  assert.equal(await rejected('malformed'), before)
})

test('Expect: 100-continue is the gateway\'s to answer: a request it refuses gets its answer and no 100 Continue', async () => {
  const r = await wireExchange(port, 'POST /nothing HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n', { timeoutMs: 3000 })
  assert.equal(r.status, 404)
  assert.deepEqual(r.interim, [], 'no 100 Continue before the refusal')
})

test('a missing Host is refused by the gateway (400 bad_request, counted as bad_host), not by Node\'s parser', async () => {
  const before = await rejected('bad_host')
  const r = await rawRequest(port, 'GET / HTTP/1.1\r\n\r\n', { waitMs: 3000 })
  await assertRefusal(r, 400, 'bad_request')
  assert.equal(await rejected('bad_host'), before + 1)
})
