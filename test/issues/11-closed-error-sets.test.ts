// Issue 11, item 7: closed error sets. Compiler diagnostic codes and runtime refusal codes are closed types
// (a code that is not in its catalogue does not compile: the `@ts-expect-error` lines below fail `tsc` if
// either type were open again); the code a request ended with (`err`, a GW_ERR_* code) and a free-text reason
// (`reason`) are separate access-log fields; jwt's check and the runtime share one list of the request
// headers the gateway owns; `gwc test` takes its refusal statuses from the same table as gw. Every refusal's
// status, body and access-log code is checked over real sockets in test/issues/10-edge-refusals.test.ts, row
// by row against ERROR_REPLIES.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { GATEWAY_REQUEST_HEADERS, HOP_BY_HOP, NOT_IDENTITY_HEADERS } from '../../config/http.js'
import { CODES, Diagnostics, type Diagnostic } from '../../grammar/index.js'
import type { RequestContext } from '../../runtime/context.js'
import { ERROR_REPLIES, GatewayError } from '../../runtime/errors.js'
import { runSuite } from '../../runtime/offline.js'
import { errorReply } from '../../runtime/reply.js'
import { bundleFrom, startGateway, type TestGateway } from '../helpers/gateway.js'

/** Never called: these lines only have to type-check (or, marked, fail to). */
export function closedTypes(ctx: RequestContext): void {
  const span = { file: 'x.gwp', line: 1, col: 1, len: 1, offset: 0 }
  const d = new Diagnostics()
  d.error('E0201', span, 'unknown upstream `a`')
  d.warn('W0709', span, '`a` is declared but never used')
  // @ts-expect-error a code that is not in the catalogue does not compile
  d.error('E0999', span, 'made up')
  // @ts-expect-error a warning code cannot be reported as an error
  d.error('W0709', span, 'wrong severity')
  // @ts-expect-error an error code cannot be reported as a warning
  d.warn('E0201', span, 'wrong severity')
  const ok: Diagnostic = { code: 'E0602', severity: 'error', message: 'm', file: 'f', line: 1, col: 1, len: 1 }
  // @ts-expect-error a Diagnostic built by hand (fmt's unreadable file) is checked against the catalogue too
  const bad: Diagnostic = { code: 'E0600', severity: 'error', message: 'm', file: 'f', line: 1, col: 1, len: 1 }
  void ok, void bad

  errorReply('GW_ERR_RATE_LIMITED')
  // @ts-expect-error a refusal code that is not in ERROR_REPLIES does not compile
  errorReply('GW_ERR_TEAPOT')
  // @ts-expect-error the table is keyed by the closed union, not by string
  void ERROR_REPLIES.GW_ERR_TEAPOT
  // @ts-expect-error a GatewayError carries a refusal code
  void new GatewayError('GW_ERR_TEAPOT', 'no')
  ctx.errorCode = 'GW_ERR_BAD_REQUEST'
  ctx.reason = 'bad_host'
  // @ts-expect-error free text is a reason, never the code the request ended with
  ctx.errorCode = 'bad_host'
}

test('the catalogues are what the types are built from: E codes are errors, W codes warnings, GW_ERR_* codes have a status and an error class', () => {
  for (const c of Object.keys(CODES)) assert.match(c, /^[EW]0\d{3}$/, c)
  for (const [c, e] of Object.entries(ERROR_REPLIES)) {
    assert.match(c, /^GW_ERR_[A-Z_]+$/, c)
    assert.ok(e.status >= 400 && e.status < 600, `${c}: ${e.status}`)
    assert.match(e.error, /^[a-z_]+$/, c)
  }
})

test('a claim cannot be forwarded as any request header the gateway owns (one list, shared with the runtime)', () => {
  for (const h of GATEWAY_REQUEST_HEADERS) assert.ok(NOT_IDENTITY_HEADERS.has(h), h)
  for (const h of HOP_BY_HOP) assert.ok(NOT_IDENTITY_HEADERS.has(h), h)
  // each of these used to compile; the gateway then sent the claim beside its own copy (X-Forwarded-For,
  // Via) or as framing (Transfer-Encoding, Content-Length)
  for (const header of ['X-Forwarded-For', 'X-Forwarded-Host', 'Forwarded', 'Via', 'Expect', 'Transfer-Encoding', 'Content-Length', 'Connection', 'Authorization', 'X-Request-Id']) {
    const text = `upstream web { replicas 127.0.0.1:9 }
jwt idp { issuer "https://id.example.com/"; jwks "https://id.example.com/jwks.json" refresh 5m; forward claim sub as ${header} }
route r { match path "/"; auth idp; timeout 1s; proxy web }
`
    const r = compile(['t.gwp'], { host: memoryHost({ 't.gwp': text }) })
    const d = r.diagnostics.find(x => x.code === 'E0306')
    assert.ok(d !== undefined, `${header}: ${JSON.stringify(r.diagnostics)}`)
    assert.equal(d.message, `claims cannot be forwarded as \`${header}\``)
  }
  const fine = compile(['t.gwp'], { host: memoryHost({ 't.gwp': `upstream web { replicas 127.0.0.1:9 }
jwt idp { issuer "https://id.example.com/"; jwks "https://id.example.com/jwks.json" refresh 5m; forward claim sub as X-User-Id }
route r { match path "/"; auth idp; timeout 1s; proxy web }
` }) })
  assert.deepEqual(fine.diagnostics, [])
})

test('`gwc test` answers refusals with the table\'s statuses, as gw does (it used to say 400 for a 501 and a 431)', () => {
  const b = bundleFrom('upstream api { replicas 127.0.0.1:1 }\nroute pub { match host "api.test" path prefix "/"; timeout 1s; proxy api }\n')
  const many: Record<string, string> = {}
  for (let i = 0; i < 300; i++) many[`x-${i}`] = 'v'
  const res = runSuite(b.manifest, b.moduleText, [
    { name: 'transfer coding', request: 'POST http://api.test/a', headers: { 'Transfer-Encoding': 'gzip, chunked' }, expect: { status: ERROR_REPLIES.GW_ERR_TRANSFER_CODING.status } },
    { name: 'too many headers', request: 'GET http://api.test/a', headers: many, expect: { status: ERROR_REPLIES.GW_ERR_TOO_MANY_HEADERS.status } },
    { name: 'bad path', request: 'GET http://api.test/a%2Fb', expect: { status: ERROR_REPLIES.GW_ERR_BAD_REQUEST.status } },
    { name: 'no route', request: 'GET http://other.test/a', expect: { status: ERROR_REPLIES.GW_ERR_NO_ROUTE.status } },
    { name: 'routed', request: 'GET http://api.test/a', expect: { status: 200 } },
  ])
  assert.deepEqual(res.cases.filter(c => !c.ok).map(c => `${c.name}: ${c.failures.join('; ')}`), [])
})

// `err` is only ever a GW_ERR_* code; why a response was cut short, or what was malformed, is its `reason`.
let upstream: Server
let gw: TestGateway
const logFile = join(mkdtempSync(join(tmpdir(), 'gwp-11-err-')), 'access.log')
before(async () => {
  // headers and half a body, then the connection is reset: the client's response is cut short
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': '100' })
    res.write('x'.repeat(50), () => setTimeout(() => res.socket?.destroy(), 20))
  })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  const port = (upstream.address() as { port: number }).port
  gw = await startGateway(`upstream up { replicas 127.0.0.1:${port} }
route cut { match path prefix "/"; timeout 2s; proxy up }
`, { accessLog: true, logDestination: logFile })
})
after(async () => {
  await gw.close()
  await new Promise<void>(r => upstream.close(() => r()))
})

const lineFor = async (id: string): Promise<Record<string, unknown>> => {
  for (let i = 0; i < 60; i++) {
    let text = ''
    try { text = readFileSync(logFile, 'utf8') } catch { /* not written yet */ }
    const l = text.split('\n').filter(Boolean).map(x => JSON.parse(x) as Record<string, unknown>).find(x => x.id === id)
    if (l !== undefined) return l
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error(`no access line for ${id}`)
}

test('a response cut short logs why as "reason" and no "err": err holds only GW_ERR_* codes', async () => {
  const res = await request(gw.url + '/file', { headers: { 'x-request-id': 'cut-1' } })
  assert.equal(res.statusCode, 200)
  await assert.rejects(res.body.text())
  const l = await lineFor('cut-1')
  assert.equal(l.status, 200)
  assert.equal(l.err, undefined, JSON.stringify(l))
  assert.equal(l.reason, 'reset', JSON.stringify(l))
  assert.equal(l.aborted, true, JSON.stringify(l))
})

test('a malformed request logs its code as "err" and the malformation as "reason"', async () => {
  const res = await request(gw.url + '/a%2Fb')
  assert.equal(res.statusCode, 400)
  const body = await res.body.json() as { error: string; request_id: string }
  assert.equal(body.error, 'bad_request')
  const l = await lineFor(body.request_id)
  assert.equal(l.err, 'GW_ERR_BAD_REQUEST', JSON.stringify(l))
  assert.equal(l.reason, 'bad_path', JSON.stringify(l))
})
