// test/runtime/headers.test.ts: header rules at the proxy boundary (RFC 9110 §7.6): hop-by-hop headers and
// those named in Connection dropped both ways; X-Forwarded-For/-Proto/-Host and Forwarded replaced unless the
// peer is a trusted proxy (then extended); Via added (and off with `via: false`); the `headers` stage;
// identity headers a client sends are stripped on every route.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { echoed, rawRequest, replicaAddrs, type Echo } from './fixtures.js'

let stub: Stub
let plain: TestGateway
let trusting: TestGateway
let noVia: TestGateway

const policy = (addrs: string) => `
upstream web { replicas ${addrs} }

jwt idp {
  issuer "http://127.0.0.1:9/"
  jwks "http://127.0.0.1:9/jwks.json" refresh 5m
  forward claim sub as X-User-Id, claim tid as X-Tenant-Id
}

route edited {
  match path prefix "/edited"
  timeout 2s
  headers request set X-Added "gw", remove X-Secret
  headers response set X-Frame-Options "DENY", remove X-Stub-Replica
  proxy web
}
route all { match path prefix "/"; timeout 2s; proxy web }
`

before(async () => {
  stub = await startStub({ name: 'web', count: 1, rules: [{ path: '/edited', mode: 'echo' }, { path: '/backend-via', headers: { via: '1.1 backend' } }] })
  const text = policy(replicaAddrs(stub))
  plain = await startGateway(text)
  trusting = await startGateway(text, { trustedProxies: ['127.0.0.0/8'] })
  noVia = await startGateway(text, { via: false })
})
after(async () => {
  await Promise.all([plain?.close(), trusting?.close(), noVia?.close()])
  await stub.close()
})

const port = (g: TestGateway) => g.running.address.port

/** Sends a raw GET with the given extra header lines; returns the upstream's echo and the client response. */
async function echoVia(g: TestGateway, lines: string[], path = '/echo', version = '1.1') {
  const r = await rawRequest(port(g), `GET ${path} HTTP/${version}\r\nHost: shop.test\r\n${lines.map(l => l + '\r\n').join('')}Connection: close\r\n\r\n`)
  assert.equal(r.status, 200, r.text)
  return { echo: JSON.parse(r.body) as Echo, res: r }
}

test('hop-by-hop request headers and those named in Connection are not forwarded', async () => {
  const r = await rawRequest(port(plain), [
    'GET /echo HTTP/1.1', 'Host: shop.test', 'Connection: keep-alive, X-Private, x-other', 'X-Private: secret', 'X-Other: o',
    'Keep-Alive: timeout=5', 'Proxy-Connection: keep-alive', 'TE: trailers', 'Trailer: X-T', 'Upgrade: h2c',
    'Proxy-Authorization: Basic YTpi', 'X-Kept: yes', '', '',
  ].join('\r\n'))
  assert.equal(r.status, 200)
  const e = JSON.parse(r.body) as Echo
  for (const h of ['x-private', 'x-other', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization']) {
    assert.deepEqual(echoed(e, h), [], `${h} must not reach the upstream`)
  }
  assert.deepEqual(echoed(e, 'x-kept'), ['yes'])
  assert.ok(echoed(e, 'connection').every(v => /^(keep-alive|close)$/i.test(v)), `connection: ${echoed(e, 'connection')}`)
})

test('hop-by-hop response headers and those the upstream named in Connection are not passed back', async () => {
  for (const close of ['1', '0']) {
    // the upstream's Connection: close is about its own connection: the client connection stays usable
    const r = await rawRequest(port(plain), `GET /hop?close=${close} HTTP/1.1\r\nHost: shop.test\r\n\r\nGET /status/200 HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n`, { untilClose: true })
    assert.equal(r.status, 200)
    const head = r.text.slice(0, r.text.indexOf('\r\n\r\n')).toLowerCase()
    assert.doesNotMatch(head, /\r\nx-hop:/, `close=${close}`)
    assert.doesNotMatch(head, /\r\nproxy-connection:/)
    assert.doesNotMatch(head, /keep-alive: timeout=5, max=100/, 'the upstream\'s Keep-Alive is not the client\'s')
    assert.match(head, /\r\nx-end-to-end: must-be-kept/)
    assert.doesNotMatch(head, /\r\nconnection: close/, 'the upstream closing its connection does not close the client\'s')
    assert.equal([...r.text.matchAll(/HTTP\/1\.1 200 /g)].length, 2, 'the second request on the connection was answered')
  }
})

test('from an untrusted peer, X-Forwarded-* and Forwarded are replaced, never extended', async () => {
  const { echo } = await echoVia(plain, ['X-Forwarded-For: 6.6.6.6', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: evil.test', 'Forwarded: for=6.6.6.6;proto=https'])
  assert.deepEqual(echoed(echo, 'x-forwarded-for'), ['127.0.0.1'])
  assert.deepEqual(echoed(echo, 'x-forwarded-proto'), ['http'])
  assert.deepEqual(echoed(echo, 'x-forwarded-host'), ['shop.test'])
  assert.deepEqual(echoed(echo, 'forwarded'), [])
})

test('from a trusted proxy, X-Forwarded-For is extended with the peer and -Proto/-Host are kept', async () => {
  const { echo } = await echoVia(trusting, ['X-Forwarded-For: 203.0.113.7, 10.0.0.2', 'X-Forwarded-For: 10.0.0.3', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: shop.example'])
  assert.deepEqual(echoed(echo, 'x-forwarded-for'), ['203.0.113.7, 10.0.0.2, 10.0.0.3, 127.0.0.1'])
  assert.deepEqual(echoed(echo, 'x-forwarded-proto'), ['https'])
  assert.deepEqual(echoed(echo, 'x-forwarded-host'), ['shop.example'])
  // and without any: set from this hop
  const bare = (await echoVia(trusting, [])).echo
  assert.deepEqual(echoed(bare, 'x-forwarded-for'), ['127.0.0.1'])
  assert.deepEqual(echoed(bare, 'x-forwarded-proto'), ['http'])
  assert.deepEqual(echoed(bare, 'x-forwarded-host'), ['shop.test'])
})

test('Via: `1.1 gwp` is appended both ways, after any Via the client sent', async () => {
  const { echo, res } = await echoVia(plain, ['Via: 1.0 fred, 1.1 p.example'])
  assert.deepEqual(echoed(echo, 'via'), ['1.0 fred, 1.1 p.example, 1.1 gwp'])
  assert.equal(res.headers.via, '1.1 gwp')
  // the received protocol version is the client's
  const old = await echoVia(plain, [], '/echo', '1.0')
  assert.deepEqual(echoed(old.echo, 'via'), ['1.0 gwp'])
})

test('a Via the upstream sent is kept in the response, before the gateway\'s own', async () => {
  const r = await rawRequest(port(plain), 'GET /backend-via HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n')
  const vias = [...r.text.slice(0, r.text.indexOf('\r\n\r\n')).matchAll(/\r\nvia: ([^\r]*)/gi)].map(m => m[1]).join(', ')
  assert.equal(vias, '1.1 backend, 1.1 gwp')
})

test('via: false adds no Via in either direction', async () => {
  const { echo, res } = await echoVia(noVia, [])
  assert.deepEqual(echoed(echo, 'via'), [])
  assert.equal(res.headers.via, undefined)
})

test('via: false still forwards the Via chain the client sent', async () => {
  const { echo } = await echoVia(noVia, ['Via: 1.0 fred'])
  assert.deepEqual(echoed(echo, 'via'), ['1.0 fred'])
})

test('the headers stage sets and removes request and response headers', async () => {
  const { echo, res } = await echoVia(plain, ['X-Added: from-client', 'X-Secret: s3cret', 'X-Other: kept'], '/edited/x')
  assert.deepEqual(echoed(echo, 'x-added'), ['gw'], 'set replaces the client value')
  assert.deepEqual(echoed(echo, 'x-secret'), [])
  assert.deepEqual(echoed(echo, 'x-other'), ['kept'])
  assert.equal(res.headers['x-frame-options'], 'DENY')
  assert.equal(res.headers['x-stub-replica'], undefined)
  // routes without the stage are untouched
  const other = await echoVia(plain, ['X-Secret: s3cret'])
  assert.deepEqual(echoed(other.echo, 'x-secret'), ['s3cret'])
  assert.equal(other.res.headers['x-stub-replica'], 'web-1')
})

test('identity headers a client sends are stripped on every route, even without auth', async () => {
  const { echo } = await echoVia(plain, ['X-User-Id: admin', 'x-tenant-id: 1', 'X-User-Idx: kept'])
  assert.deepEqual(echoed(echo, 'x-user-id'), [])
  assert.deepEqual(echoed(echo, 'x-tenant-id'), [])
  assert.deepEqual(echoed(echo, 'x-user-idx'), ['kept'])
})

test('header names and values pass through with their case and order', async () => {
  const { echo } = await echoVia(plain, ['X-First: 1', 'x-MiXeD: Value With  Spaces', 'X-Dup: a', 'X-Dup: b'])
  const names = echo.rawHeaders.filter((_, i) => i % 2 === 0)
  const at = (n: string) => names.indexOf(n)
  assert.ok(at('X-First') >= 0 && at('X-First') < at('x-MiXeD') && at('x-MiXeD') < at('X-Dup'), names.join(', '))
  assert.deepEqual(echoed(echo, 'x-mixed'), ['Value With  Spaces'])
  assert.deepEqual(echoed(echo, 'x-dup'), ['a', 'b'])
})
