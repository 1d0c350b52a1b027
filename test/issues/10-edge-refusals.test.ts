// Issue 10, gaps: every answer the edge makes itself carries the request id, in the JSON body and in
// X-Request-Id, and gets an access-log line with its status and error code. The 408, the parser's 400 and
// 431 headers_too_large, the upgrade 501 and the CONNECT 405 used to have neither (they are written on the
// bare socket). Table-driven, over raw sockets, one row per refusal the edge produces.
// Issue 11 item 7: every row's status and body are the ones runtime/errors.ts ERROR_REPLIES gives its code
// (the one table every refusal goes through), the access line's `err` is that code and `reason` the
// free-text cause (or none), and every code in the table has a row.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { startIdp, type Idp } from '../../testkit/idp/index.js'
import { ERROR_REPLIES, type RefusalCode } from '../../runtime/errors.js'
import { rawRequest, replicaAddrs, startRig, waitFor, type Rig } from '../runtime/fixtures.js'
import { deadAddress } from '../helpers/dead-address.js'
import { accessLine as readAccessLine } from '../helpers/access-log.js'

let rig: Rig
let idp: Idp
/** An upstream that accepts connections and never answers: an upgrade handshake to it stays under way. */
const silent = createTcpServer(s => { silentConnections++; s.on('data', () => undefined); s.on('error', () => undefined) })
let silentConnections = 0
/** Tokens signed in before(): one for the route's audience, one for another. */
const tokens = { ok: '', otherAudience: '' }
const logFile = join(mkdtempSync(join(tmpdir(), 'gwp-refusals-')), 'access.log')

before(async () => {
  idp = await startIdp({ algorithms: ['RS256'] })
  tokens.ok = await idp.sign({}, { subject: 'alice', audience: 'shop-api' })
  tokens.otherAudience = await idp.sign({}, { subject: 'alice', audience: 'other-api' })
  silent.listen(0, '127.0.0.1')
  await new Promise(r => silent.once('listening', r))
  rig = await startRig({ name: 'web', count: 1, rules: [{ path: '/slow', latency: 2000 }, { path: '/hold', latency: 1500 }] }, s => `
upstream web { replicas ${replicaAddrs(s)} }
upstream single { replicas ${replicaAddrs(s)}; pool connections 1 }
upstream gone {
  replicas ${deadAddress()}
  health passive eject_after 1 errors for 60s
}
jwt idp { issuer "${idp.issuer}"; jwks "${idp.jwksUrl}" refresh 5m }
jwt down { issuer "${idp.issuer}"; jwks "http://${deadAddress(1)}/jwks.json" refresh 5m }
route small { match host "shop.test" path prefix "/small"; timeout 3s; max_body 1KB; proxy web }
route slow { match host "shop.test" path prefix "/slow"; timeout 200ms; proxy web }
route gone { match host "shop.test" path prefix "/gone"; timeout 3s; proxy gone }
route auth { match host "shop.test" path prefix "/auth"; auth idp audience "shop-api"; timeout 3s; proxy web }
route auth_down { match host "shop.test" path prefix "/idp-down"; auth down audience "shop-api"; timeout 3s; proxy web }
route limited { match host "shop.test" path prefix "/limited"; ratelimit by ip 1 per 1m; timeout 3s; proxy web }
route redis_down { match host "shop.test" path prefix "/redis-down"; ratelimit by ip 100 per 1s redis fail_closed; timeout 3s; proxy web }
route hold { match host "shop.test" path prefix "/hold"; timeout 5s; proxy single }
route queued { match host "shop.test" path prefix "/queued"; timeout 300ms; proxy single }
route all { match host "shop.test" path prefix "/"; timeout 3s; proxy web }
upstream silent { replicas 127.0.0.1:${(silent.address() as AddressInfo).port} }
route tunnels { match host "shop.test" path prefix "/ws-full" method GET; timeout 3s; upgrade websocket max_open 1; proxy silent }
`, { accessLog: true, logDestination: logFile, headersTimeoutMs: 500, drainTimeoutMs: 1000, redisUrl: `redis://${deadAddress(2)}` })
})
after(async () => { await rig.close(); await idp.close(); silent.close() })

const H = 'Host: shop.test\r\n'
const WS = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`

interface Row {
  what: string
  raw: string | (() => string)
  /** What the client must see (docs/operations.md, the edge contract); ERROR_REPLIES[code] must agree. */
  status: number
  error: string
  /** The refusal code: the access line's `err`. */
  code: RefusalCode
  /** The access line's `reason` (also the gw_rejected_requests_total label); absent when the code says it all. */
  reason?: string
  /** Run first (not timed against the row): what makes the refusal happen. */
  setup?: () => Promise<unknown>
  /** The request id the answer must carry (the client's), when the row sends one. */
  id?: string
  /** A client id the answer must not carry: a malformed request's headers are not trusted for it. */
  notId?: string
}

// In order: the 503 row relies on the 502 row having ejected the only replica of `gone`.
const ROWS: Row[] = [
  { what: 'not HTTP (parser)', raw: 'GARBAGE\r\n\r\n', status: 400, error: 'bad_request', code: 'GW_ERR_BAD_REQUEST', reason: 'malformed' },
  { what: 'Content-Length with Transfer-Encoding (parser)', raw: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400, error: 'bad_request', code: 'GW_ERR_BAD_REQUEST', reason: 'malformed' },
  { what: 'NUL in a header value (parser)', raw: `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, status: 400, error: 'bad_request', code: 'GW_ERR_BAD_REQUEST', reason: 'malformed' },
  { what: 'duplicate Host', raw: `GET / HTTP/1.1\r\n${H}${H}\r\n`, status: 400, error: 'bad_request', code: 'GW_ERR_BAD_REQUEST', reason: 'duplicate_host' },
  { what: 'missing Host on HTTP/1.1', raw: 'GET / HTTP/1.1\r\n\r\n', status: 400, error: 'bad_request', code: 'GW_ERR_BAD_REQUEST', reason: 'bad_host' },
  { what: 'encoded slash in the path', raw: `GET /a%2Fb HTTP/1.1\r\n${H}\r\n`, status: 400, error: 'bad_request', code: 'GW_ERR_BAD_REQUEST', reason: 'bad_path' },
  { what: 'absolute-form naming another host', raw: `GET http://evil.test/ HTTP/1.1\r\n${H}X-Request-Id: client-id-1\r\n\r\n`, status: 400, error: 'bad_request', code: 'GW_ERR_BAD_REQUEST', notId: 'client-id-1', reason: 'absolute_form_host_mismatch' },
  { what: 'CONNECT', raw: 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', status: 405, error: 'method_not_allowed', code: 'GW_ERR_METHOD_NOT_ALLOWED', reason: 'connect' },
  { what: 'CONNECT with a client request id', raw: 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\nX-Request-Id: client-id-2\r\n\r\n', status: 405, error: 'method_not_allowed', code: 'GW_ERR_METHOD_NOT_ALLOWED', id: 'client-id-2', reason: 'connect' },
  { what: 'head not finished within headersTimeout', raw: `GET / HTTP/1.1\r\n${H}X-Slow: 1\r\n`, status: 408, error: 'request_timeout', code: 'GW_ERR_REQUEST_TIMEOUT', reason: 'request_timeout' },
  { what: 'declared body over max_body', raw: `POST /small HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n`, status: 413, error: 'payload_too_large', code: 'GW_ERR_BODY_TOO_LARGE' },
  // Node's parser counts the request line toward the header limit: there is no separate 414
  { what: 'target longer than the header limit (no 414: counted in the head)', raw: `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`, status: 431, error: 'headers_too_large', code: 'GW_ERR_HEADERS_TOO_LARGE', reason: 'headers_too_large' },
  { what: 'header block over maxHeaderBytes', raw: `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, error: 'headers_too_large', code: 'GW_ERR_HEADERS_TOO_LARGE', reason: 'headers_too_large' },
  { what: 'more than 256 header fields', raw: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 300 }, (_, i) => `x-${i}: v\r\n`).join('')}\r\n`, status: 431, error: 'too_many_headers', code: 'GW_ERR_TOO_MANY_HEADERS', reason: 'too_many_headers' },
  { what: 'WebSocket upgrade', raw: `GET / HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Request-Id: client-id-3\r\n\r\n`, status: 501, error: 'upgrade_not_supported', code: 'GW_ERR_UPGRADE_NOT_SUPPORTED', id: 'client-id-3', reason: 'upgrade' },
  { what: 'an HTTP/1.1 Expect other than 100-continue', raw: `POST / HTTP/1.1\r\n${H}Expect: 100-continue, x\r\nContent-Length: 2\r\n\r\nhi`, status: 417, error: 'expectation_failed', code: 'GW_ERR_EXPECTATION_FAILED', reason: 'expectation_failed' },
  { what: 'a transfer coding other than chunked', raw: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, status: 501, error: 'unsupported_transfer_coding', code: 'GW_ERR_TRANSFER_CODING', reason: 'unsupported_transfer_coding' },
  { what: 'no route for the host', raw: 'GET / HTTP/1.1\r\nHost: nowhere.test\r\nX-Request-Id: client-id-4\r\n\r\n', status: 404, error: 'no_route', code: 'GW_ERR_NO_ROUTE', id: 'client-id-4' },
  { what: 'upstream refuses connections', raw: `GET /gone HTTP/1.1\r\n${H}\r\n`, status: 502, error: 'bad_gateway', code: 'GW_ERR_BAD_GATEWAY' },
  { what: 'no healthy replica', raw: `GET /gone HTTP/1.1\r\n${H}\r\n`, status: 503, error: 'upstream_unavailable', code: 'GW_ERR_UPSTREAM_UNAVAILABLE' },
  { what: 'route timeout before response headers', raw: `GET /slow HTTP/1.1\r\n${H}\r\n`, status: 504, error: 'upstream_timeout', code: 'GW_ERR_UPSTREAM_TIMEOUT' },
  { what: 'no token on an auth route', raw: `GET /auth HTTP/1.1\r\n${H}\r\n`, status: 401, error: 'unauthorized', code: 'GW_ERR_UNAUTHORIZED' },
  { what: 'a valid token for another audience', raw: () => `GET /auth HTTP/1.1\r\n${H}Authorization: Bearer ${tokens.otherAudience}\r\n\r\n`, status: 403, error: 'forbidden', code: 'GW_ERR_FORBIDDEN' },
  { what: 'a token whose keys cannot be fetched', raw: () => `GET /idp-down HTTP/1.1\r\n${H}Authorization: Bearer ${tokens.ok}\r\n\r\n`, status: 503, error: 'auth_unavailable', code: 'GW_ERR_AUTH_UNAVAILABLE' },
  { what: 'over the rate limit', setup: () => rawRequest(rig.port, `GET /limited HTTP/1.1\r\n${H}\r\n`), raw: `GET /limited HTTP/1.1\r\n${H}\r\n`, status: 429, error: 'rate_limited', code: 'GW_ERR_RATE_LIMITED' },
  { what: 'Redis limit unreachable, fail_closed', raw: `GET /redis-down HTTP/1.1\r\n${H}\r\n`, status: 503, error: 'rate_limit_unavailable', code: 'GW_ERR_RATELIMIT_UNAVAILABLE' },
  {
    what: 'route timeout while queued for the only pooled connection',
    setup: async () => {
      void rawRequest(rig.port, `GET /hold HTTP/1.1\r\n${H}\r\n`, { waitMs: 4000 })
      await waitFor(() => rig.stub.stats().inFlight >= 1, 3000, 'the held request to reach the upstream')
    },
    raw: `GET /queued HTTP/1.1\r\n${H}\r\n`, status: 503, error: 'upstream_pool_exhausted', code: 'GW_ERR_POOL_EXHAUSTED',
  },
  {
    what: 'upgrade on a route whose max_open tunnels are taken (one handshake under way)',
    setup: async () => {
      void rawRequest(rig.port, WS('/ws-full/a'), { waitMs: 4000 })
      await waitFor(() => silentConnections >= 1, 3000, 'the first handshake to reach the upstream')
    },
    raw: WS('/ws-full/b', 'X-Request-Id: client-id-5\r\n'), status: 503, error: 'tunnels_full', code: 'GW_ERR_TUNNELS_FULL', id: 'client-id-5', reason: 'tunnels_full',
  },
]

/** Codes no request from outside can produce: GW_ERR_INTERNAL answers only a bug inside the gateway. */
const UNREACHABLE: RefusalCode[] = ['GW_ERR_INTERNAL']

test('every refusal code in ERROR_REPLIES has a row, and each row expects what the table says', () => {
  const missing = (Object.keys(ERROR_REPLIES) as RefusalCode[]).filter(c => !UNREACHABLE.includes(c) && !ROWS.some(r => r.code === c))
  assert.deepEqual(missing, [], 'refusal codes without a row')
  for (const row of ROWS) assert.deepEqual({ status: row.status, error: row.error }, ERROR_REPLIES[row.code], `${row.what}: the table disagrees with the edge contract`)
})

const accessLine = (id: string) => readAccessLine(logFile, id)

test('every refusal the edge makes carries request_id in its body and X-Request-Id, and gets an access-log line', async () => {
  const problems: string[] = []
  for (const row of ROWS) {
    await row.setup?.()
    const r = await rawRequest(rig.port, typeof row.raw === 'string' ? row.raw : row.raw(), { waitMs: 4000 })
    const got = `${row.what}: ${JSON.stringify(r.text.slice(0, 400))}`
    if (r.status !== row.status) { problems.push(`status ${r.status}, want ${row.status}: ${got}`); continue }
    let body: { error?: string; request_id?: string }
    try { body = JSON.parse(r.body) } catch { problems.push(`body is not JSON: ${got}`); continue }
    if (body.error !== row.error) problems.push(`error ${body.error}, want ${row.error}: ${got}`)
    const id = r.headers['x-request-id']
    if (typeof body.request_id !== 'string' || body.request_id === '') { problems.push(`no request_id in the body: ${got}`); continue }
    if (id !== body.request_id) problems.push(`X-Request-Id ${id} differs from the body's ${body.request_id}: ${got}`)
    if (row.id !== undefined && body.request_id !== row.id) problems.push(`the client's request id was not kept: ${got}`)
    if (row.notId !== undefined && body.request_id === row.notId) problems.push(`a malformed request's id was taken: ${got}`)
    const line = await accessLine(body.request_id)
    if (line === undefined) { problems.push(`no access-log line: ${row.what}`); continue }
    if (line.status !== row.status || line.err !== row.code || line.reason !== row.reason) problems.push(`access line ${JSON.stringify(line)}, want status ${row.status} err ${row.code} reason ${row.reason}: ${row.what}`)
    if (line.msg !== 'access') problems.push(`not an access line: ${JSON.stringify(line)}`)
  }
  assert.deepEqual(problems, [])
})
