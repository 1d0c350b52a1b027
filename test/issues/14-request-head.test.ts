// test/issues/14-request-head.test.ts: every decision runtime/request-head.ts makes, one raw request each, seen
// where it matters: the status and the refusal's counted reason (gw_rejected_requests_total, docs/operations.md),
// the access line (host, path, client ip, request id, trace id), and what the upstream receives (target, body,
// whether the client got 100 Continue). Written for the mutation run (lab/mutation, area edge): the first test
// a mutant of request-head.ts meets, so it is one file of fast raw-socket exchanges against three gateways that
// differ only in which proxies they trust.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { BlockList } from 'node:net'
import type { RequestContext } from '../../runtime/context.js'
import { cachedVerdicts, MAX_HEADERS, readHead } from '../../runtime/request-head.js'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type Received, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { wireExchange, type WireResponse } from '../helpers/wire.js'
import { accessLine as readAccessLine } from '../helpers/access-log.js'

let up: RecordingUpstream
const dir = mkdtempSync(join(tmpdir(), 'gwp-request-head-'))
/** trusts the test client (127.0.0.1) and 2001:db8::/32 */
let trusting: TestGateway
/** trusts proxies, but not the test client */
let others: TestGateway
/** trusts no proxy */
let plain: TestGateway

before(async () => {
  up = await startRecordingUpstream(1)
  const policy = `
upstream web { replicas ${up.addrs} }
route all { match path prefix "/"; timeout 2s; proxy web }
`
  const settings = (name: string, trustedProxies: string[]) => ({ accessLog: true, logDestination: join(dir, `${name}.log`), trustedProxies })
  trusting = await startGateway(policy, settings('trusting', ['127.0.0.0/8', '2001:db8::/32']))
  others = await startGateway(policy, settings('others', ['10.0.0.0/8']))
  plain = await startGateway(policy, settings('plain', []))
})
after(async () => { await Promise.all([trusting?.close(), others?.close(), plain?.close()]); await up?.close() })

const portOf = (gw: TestGateway) => gw.running.address.port

/** The access line of request `id` in gateway `name`'s log. */
async function accessLine(name: string, id: string): Promise<Record<string, unknown>> {
  const line = await readAccessLine(join(dir, `${name}.log`), id)
  if (line === undefined) throw new Error(`no access line for ${id} in ${name}.log`)
  return line
}

async function rejected(gw: TestGateway, reason: string): Promise<number> {
  const res = await fetch(`${gw.adminUrl}/metrics`)
  return metric(await res.text(), 'gw_rejected_requests_total', { reason }) ?? 0
}

let seq = 0
/** Sends `head` (lines, without the final blank line) plus `body` parts; returns the answer and what the upstream got. */
async function send(gw: TestGateway, lines: string[], body: string[] = [], gapMs = 0): Promise<{ r: WireResponse; got: Received | undefined }> {
  up.reset()
  const r = await wireExchange(portOf(gw), [lines.map(l => l + '\r\n').join('') + '\r\n', ...body], { gapMs, timeoutMs: 3000 })
  return { r, got: up.received[0] }
}

/** A refusal: status, and counted under `reason` exactly once; nothing reaches the upstream. */
async function refused(lines: string[], status: number, reason: string, gw = trusting): Promise<void> {
  const before = await rejected(gw, reason)
  const { r, got } = await send(gw, lines)
  assert.equal(r.status, status, `${lines[0]}: ${r.head}`)
  assert.equal(got, undefined, `${lines[0]}: not forwarded`)
  assert.equal(await rejected(gw, reason), before + 1, `${lines[0]}: counted as ${reason}`)
}

/**
 * Forwarded with 200; the upstream's request and the access line (by the request id sent) are returned, the
 * line as a promise (the log is flushed every 200 ms: await the lines of several requests together).
 */
async function served(lines: string[], gw = trusting, name = 'trusting', body: string[] = [], gapMs = 0) {
  const id = `rh-${++seq}`
  const { r, got } = await send(gw, [...lines.slice(0, 1), `X-Request-Id: ${id}`, ...lines.slice(1)], body, gapMs)
  assert.equal(r.status, 200, `${lines[0]}: ${r.head}`)
  assert.ok(got !== undefined, `${lines[0]}: forwarded`)
  const line = accessLine(name, id)
  line.catch(() => undefined)
  return { r, got, line }
}

test(`header count: ${MAX_HEADERS} fields are served, ${MAX_HEADERS + 1} get 431 (too_many_headers)`, async () => {
  const fields = (n: number) => ['Host: a.test', ...Array.from({ length: n - 1 }, (_, i) => `X-F${i}: v`)]
  const { got } = await served(['GET /many HTTP/1.1', ...fields(MAX_HEADERS - 1)]) // + X-Request-Id = MAX_HEADERS
  assert.equal(got!.headers.filter(([n]) => /^X-F\d+$/.test(n)).length, MAX_HEADERS - 2, 'every field forwarded')
  await refused(['GET /many HTTP/1.1', ...fields(MAX_HEADERS + 1)], 431, 'too_many_headers')
})

test('Host: exactly one, counted whatever its case; four-letter names that are not Host do not count', async () => {
  await refused(['GET / HTTP/1.1', 'Host: a.test', 'host: a.test'], 400, 'duplicate_host')
  await refused(['GET / HTTP/1.1', 'HOST: a.test', 'hOsT: b.test'], 400, 'duplicate_host')
  await served(['GET / HTTP/1.1', 'Host: a.test', 'X-Ab: 1', 'Date: x', 'From: y'])
  await refused(['GET / HTTP/1.1'], 400, 'bad_host')
  await refused(['GET / HTTP/1.1', 'Host: a/b'], 400, 'bad_host')
  await refused(['GET / HTTP/1.1', 'Host: -a.test'], 400, 'bad_host')
  const { line } = await served(['GET / HTTP/1.0'])
  assert.equal((await line).host, '', 'HTTP/1.0 may omit Host')
})

test('Transfer-Encoding: chunked only (any case), never on HTTP/1.0; other 17-letter names are not it', async () => {
  await refused(['POST / HTTP/1.0', 'Host: a.test', 'transfer-encoding: chunked'], 400, 'http10_transfer_encoding')
  await refused(['POST / HTTP/1.0', 'Host: a.test', 'TRANSFER-ENCODING: chunked'], 400, 'http10_transfer_encoding')
  const h10 = await served(['GET / HTTP/1.0', 'Host: a.test', 'X-Seventeen-Chars: 1'])
  assert.equal(h10.got!.header('x-seventeen-chars'), '1')
  await refused(['POST / HTTP/1.1', 'Host: a.test', 'Transfer-Encoding: gzip, chunked'], 501, 'unsupported_transfer_coding')
  const chunked = await served(['POST /up HTTP/1.1', 'Host: a.test', 'Transfer-Encoding: Chunked'], trusting, 'trusting', ['5\r\nhello\r\n0\r\n\r\n'])
  assert.equal(chunked.got!.body.toString(), 'hello', 'a chunked body is forwarded')
  const sized = await served(['POST /up HTTP/1.1', 'Host: a.test', 'Content-Length: 5'], trusting, 'trusting', ['hello'])
  assert.equal(sized.got!.body.toString(), 'hello', 'a Content-Length body is forwarded')
  // HTTP/2.0 in a request line (Node's parser takes it) is not HTTP/1.0: only 1.0 forbids Transfer-Encoding
  const before = await rejected(trusting, 'http10_transfer_encoding')
  await send(trusting, ['POST / HTTP/2.0', 'Host: a.test', 'Transfer-Encoding: chunked'], ['0\r\n\r\n'])
  assert.equal(await rejected(trusting, 'http10_transfer_encoding'), before)
})

test('a request without a body is forwarded without one: no Content-Length or Transfer-Encoding is made up', async () => {
  const get = await served(['GET /nobody HTTP/1.1', 'Host: a.test'])
  assert.equal(get.got!.header('content-length'), undefined)
  assert.equal(get.got!.header('transfer-encoding'), undefined)
  const zero = await served(['POST /zero HTTP/1.1', 'Host: a.test', 'Content-Length: 0'])
  assert.equal(zero.got!.header('transfer-encoding'), undefined)
  assert.equal(zero.got!.header('content-length') ?? '0', '0')
  assert.equal(zero.got!.body.length, 0)
})

test('absolute-form: the authority must name the Host (case, port and a trailing dot aside), then it is origin-form', async () => {
  const ok = async (target: string, host: string | null, want: string) => {
    const { got, line } = await served([`GET ${target} HTTP/1.1`, ...(host === null ? [] : [`Host: ${host}`])])
    assert.equal(got!.target, want, target)
    return line
  }
  await ok('http://a.test/x?q=1', 'a.test', '/x?q=1')
  await ok('HTTPS://A.Test:8443/x', 'a.test', '/x')
  await ok('http://a.test./x', 'a.test', '/x')
  await ok('http://a.test', 'A.TEST.:80', '/')
  await ok('http://[::1]:80/v6', '[::1]', '/v6')
  await refused(['GET http://[::1]/ HTTP/1.1', 'Host: [::2]'], 400, 'absolute_form_host_mismatch')
  await refused(['GET http://evil.test/ HTTP/1.1', 'Host: a.test'], 400, 'absolute_form_host_mismatch')
  await refused(['GET http://a.test.evil/ HTTP/1.1', 'Host: a.test'], 400, 'absolute_form_host_mismatch')
  await refused(['GET ftp://a.test/ HTTP/1.1', 'Host: a.test'], 400, 'bad_target')
  await refused(['GET xhttp://a.test/ HTTP/1.1', 'Host: a.test'], 400, 'bad_target')
  await refused(['GET http://a.test?x=1 HTTP/1.1', 'Host: a.test'], 400, 'bad_target')
  // HTTP/1.0 without Host: nothing to compare with
  const { got } = await send(trusting, ['GET http://b.test/h10 HTTP/1.0'])
  assert.equal(got?.target, '/h10')
})

test('path and query: a fragment is refused, the path is normalised, the query passes unchanged', async () => {
  await refused(['GET /a#frag HTTP/1.1', 'Host: a.test'], 400, 'bad_target')
  await refused(['GET /a%2Fb HTTP/1.1', 'Host: a.test'], 400, 'bad_path')
  const q = await served(['GET /x/../y//z?b=1&a=%2F HTTP/1.1', 'Host: Shop.TEST.:8080'])
  assert.equal(q.got!.target, '/y/z?b=1&a=%2F')
  const bare = await served(['GET /plain HTTP/1.1', 'Host: [::1]:9'])
  assert.equal(bare.got!.target, '/plain')
  assert.equal((await q.line).path, '/y/z')
  assert.equal((await q.line).host, 'shop.test')
  assert.equal((await bare.line).host, '[::1]')
  const empty = await served(['GET /e? HTTP/1.1', 'Host: a.test'])
  assert.equal(empty.got!.target, '/e?')
})

test('Expect: 100-continue (any case) gets 100 Continue before the body is sent; without it none is sent', async () => {
  const a = await served(['POST /c HTTP/1.1', 'Host: a.test', 'Content-Length: 2', 'Expect: 100-Continue'], trusting, 'trusting', ['ok'], 300)
  assert.equal(a.r.interim.length, 1, 'one interim answer')
  assert.match(a.r.interim[0], /^HTTP\/1\.1 100 Continue/)
  assert.equal(a.got!.body.toString(), 'ok')
  const b = await served(['POST /c HTTP/1.1', 'Host: a.test', 'Content-Length: 2'], trusting, 'trusting', ['ok'], 50)
  assert.deepEqual(b.r.interim, [])
})

test('request id and trace: a sane client id is kept, any other replaced; a valid traceparent continues its trace', async () => {
  const kept = await served(['GET / HTTP/1.1', 'Host: a.test'])
  assert.match(kept.r.header('x-request-id')!, /^rh-\d+$/)
  assert.equal(kept.got!.header('x-request-id'), kept.r.header('x-request-id'))
  up.reset()
  const bad = await wireExchange(portOf(trusting), 'GET / HTTP/1.1\r\nHost: a.test\r\nX-Request-Id: a b<c>\r\n\r\n')
  assert.equal(bad.status, 200)
  assert.notEqual(bad.header('x-request-id'), 'a b<c>')
  assert.match(String(bad.header('x-request-id')), /^[A-Za-z0-9._:@-]+$/)
  assert.equal(up.received[0].header('x-request-id'), bad.header('x-request-id'))
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  const t = await served(['GET / HTTP/1.1', 'Host: a.test', `traceparent: 00-${traceId}-00f067aa0ba902b7-01`])
  const fresh = await served(['GET / HTTP/1.1', 'Host: a.test'])
  assert.equal((await t.line).trace, traceId)
  const sent = t.got!.header('traceparent')!
  assert.match(sent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
  assert.notEqual(sent.split('-')[2], '00f067aa0ba902b7', 'the gateway is the parent of the upstream span')
  assert.match(String((await fresh.line).trace), /^[0-9a-f]{32}$/)
  assert.notEqual((await fresh.line).trace, traceId)
})

test('client address behind trusted proxies: the rightmost X-Forwarded-For entry that is not a trusted proxy', async () => {
  const want: [string, Promise<Record<string, unknown>>, string][] = []
  const ip = async (xff: string[], expected: string, what: string, gw = trusting, name = 'trusting') => {
    const { line } = await served(['GET / HTTP/1.1', 'Host: a.test', ...xff.map(v => `X-Forwarded-For: ${v}`)], gw, name)
    want.push([expected, line, what])
  }
  await ip([], '127.0.0.1', 'no X-Forwarded-For: the peer')
  await ip(['203.0.113.9'], '203.0.113.9', 'a single entry')
  await ip(['198.51.100.1, 203.0.113.9, 127.0.0.5'], '203.0.113.9', 'trusted entries are skipped from the right')
  await ip(['198.51.100.1,203.0.113.9 ,  ,'], '203.0.113.9', 'empty entries skipped, spaces trimmed')
  await ip(['198.51.100.4, 2001:db8::1'], '198.51.100.4', 'IPv6 entries are checked as IPv6')
  await ip(['2001:db9::7'], '2001:db9::7', 'an untrusted IPv6 entry is the client')
  await ip(['127.0.0.2, 127.0.0.3'], '127.0.0.1', 'all trusted: the peer')
  await ip(['not-an-address'], 'not-an-address', 'text that is no address is not a trusted proxy')
  await ip(['203.0.113.9'], '127.0.0.1', 'an untrusted peer\'s X-Forwarded-For is ignored', others, 'others')
  await ip(['203.0.113.9'], '127.0.0.1', 'no trusted proxies: the peer', plain, 'plain')
  for (const [expected, line, what] of want) assert.equal((await line).ip, expected, what)
})

test('X-Forwarded-Host is taken from a trusted peer only', async () => {
  const xfh = async (gw: TestGateway, name: string) => (await served(['GET / HTTP/1.1', 'Host: a.test', 'X-Forwarded-Host: orig.test'], gw, name)).got!.header('x-forwarded-host')
  assert.equal(await xfh(trusting, 'trusting'), 'orig.test')
  assert.equal(await xfh(others, 'others'), 'a.test')
  assert.equal(await xfh(plain, 'plain'), 'a.test')
})

test('the trusted-proxy verdicts are cached per address, and the cache stays bounded (4096) whatever X-Forwarded-For says', () => {
  const list = new BlockList()
  list.addSubnet('127.0.0.0', 8, 'ipv4')
  const head = (xff: string) => {
    const req = {
      rawHeaders: ['Host', 'a.test', 'X-Forwarded-For', xff], headers: { host: 'a.test', 'x-forwarded-for': xff },
      url: '/', httpVersionMajor: 1, httpVersionMinor: 1, socket: { remoteAddress: '127.0.0.1' },
    }
    const ctx = { req, id: '', errorCode: '', reason: '' } as unknown as RequestContext
    assert.equal(readHead(ctx, { trusted: list }), true)
    return ctx.clientIp
  }
  assert.equal(head('198.51.100.1'), '198.51.100.1')
  assert.equal(head('198.51.100.2'), '198.51.100.2')
  assert.equal(cachedVerdicts(list), 3, 'the peer and both entries')
  let max = 0
  for (let i = 0; i < 5000; i++) {
    assert.equal(head(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`), `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`)
    max = Math.max(max, cachedVerdicts(list))
  }
  assert.equal(max, 4096)
})
