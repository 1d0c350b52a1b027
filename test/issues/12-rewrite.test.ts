// Issue 12 item 1: `rewrite` changes the path (and Host) the proxy sends upstream, through real sockets: a
// raw-socket client sends exact request targets (encoded slashes, dot-segments) and a recording upstream
// shows exactly what the gateway sent. Normalisation runs first; strip/prefix results are normal by
// construction, regex results are re-checked (400 rather than a path outside the intended prefix).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { bundleFrom, startGateway, type TestGateway } from '../helpers/gateway.js'
import { runSuite } from '../../runtime/offline.js'
import { explainRequest } from '../../compiler/tools/explain.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange } from '../helpers/wire.js'

let up: RecordingUpstream
let gw: TestGateway
let port: number

before(async () => {
  up = await startRecordingUpstream(1)
  gw = await startGateway(`
upstream svc { replicas ${up.addrs} }
defaults { timeout 2s }
route api { match path prefix "/api"; rewrite strip "/api"; proxy svc }
route legacy { match path prefix "/legacy/v1"; rewrite prefix "/legacy/v1" "/v1"; proxy svc }
route root { match path prefix "/mount"; rewrite prefix "/mount" "/"; proxy svc }
route users { match path prefix "/users"; rewrite regex "^/users/([0-9]+)(/orders)?$" "/u/$1$2"; proxy svc }
route wide { match path prefix "/w"; rewrite prefix "/w/in" "/x"; proxy svc }
route files { match path prefix "/f"; rewrite regex "^/f/([^/]*)x$" "/store/$1/end"; proxy svc }
route glue { match path prefix "/g"; rewrite regex "^/g(.*)$" "/store/$1"; proxy svc }
route keep { match path prefix "/client"; rewrite host client; proxy svc }
route replica { match path prefix "/replica"; rewrite host replica; proxy svc }
route fixed { match path prefix "/fixed"; rewrite host "internal.example:8443"; proxy svc }
route plain { match path prefix "/plain"; proxy svc }
`)
  port = gw.running.address.port
})
after(async () => { await gw.close(); await up.close() })

/** Sends one request with this exact target; what the upstream received for it (undefined: nothing). */
async function send(target: string, host = 'api.example.com') {
  up.reset()
  const res = await wireExchange(port, req(`GET ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close'))
  return { status: res.status, got: up.received[0] }
}

test('strip and prefix rewrite the path on a segment boundary and keep the query as received', async () => {
  for (const [target, sent] of [
    ['/api/x?q=1', '/x?q=1'], ['/api', '/'], ['/api?q=%2F..%2F', '/?q=%2F..%2F'], ['/api/', '/'],
    ['/legacy/v1/a/b?c', '/v1/a/b?c'], ['/legacy/v1', '/v1'], ['/mount/z', '/z'], ['/mount', '/'],
  ]) {
    const { status, got } = await send(target)
    assert.equal(status, 200, target)
    assert.equal(got?.target, sent, target)
  }
  assert.equal((await send('/apis/x')).status, 404, '`/apis` is not under `/api`')
  // a route that also matches paths outside its rewrite prefix (W0770) sends those unchanged
  for (const [target, sent] of [['/w/in/a', '/x/a'], ['/w/in?q', '/x?q'], ['/w/ou/t', '/w/ou/t'], ['/w/inx', '/w/inx'], ['/w/inx/y', '/w/inx/y'], ['/w', '/w']]) {
    assert.equal((await send(target)).got?.target, sent, target)
  }
})

test('hostile paths are normalised before the rewrite: no dot-segment, empty segment or encoded slash reaches the upstream', async () => {
  for (const [target, sent] of [
    ['/api/x/%2e%2e/y', '/y'], ['/api/x/%2E%2E/%2E/y', '/y'], ['/api//x', '/x'], ['/api/./x/..', '/'],
    ['/api/x/../../y', null], // climbs out of /api: normalised to /y, which no route matches
    ['/legacy/v1/../v2/x', null],
  ] as const) {
    const { status, got } = await send(target)
    if (sent === null) { assert.equal(status, 404, target); assert.equal(got, undefined, target); continue }
    assert.equal(status, 200, target)
    assert.equal(got?.target, sent, target)
  }
  for (const target of ['/api/%2F..%2Fadmin', '/api/..%2f..%2fadmin', '/api%2F..%2Fadmin', '/api/%5C..%5Cx', '/api/%00']) {
    const { status, got } = await send(target)
    assert.equal(status, 400, target)
    assert.equal(got, undefined, `${target} reached the upstream`)
  }
})

test('a regex rewrite whose result is not in normal form is refused with 400, never forwarded', async () => {
  assert.equal((await send('/users/42')).got?.target, '/u/42', 'a group that took no part is empty')
  assert.equal((await send('/users/42/orders?x')).got?.target, '/u/42/orders?x')
  assert.equal((await send('/users/4x')).got?.target, '/users/4x', 'no match: unchanged')
  assert.equal((await send('/f/abx')).got?.target, '/store/ab/end')
  for (const target of ['/f/..x', '/f/%2E%2Ex', '/f/.x', '/g/x', '/g//x']) {
    // `..` or `.` captured between two literal slashes, or a capture starting with `/` after a literal one
    const { status, got } = await send(target)
    assert.equal(status, 400, target)
    assert.equal(got, undefined, `${target} reached the upstream as ${got?.target}`)
  }
  assert.equal((await send('/g')).got?.target, '/store/')
})

test('the upstream Host: the client\'s by default and with `host client`, the replica\'s, or a fixed one; X-Forwarded-Host stays the client\'s', async () => {
  const host = 'api.example.com:8080'
  const plain = (await send('/plain', host)).got!
  assert.equal(plain.header('host'), host, 'today\'s default: the client\'s Host passes through')
  assert.equal((await send('/client', host)).got!.header('host'), host)
  const replica = (await send('/replica', host)).got!
  assert.equal(replica.header('host'), up.replicas[0].addr)
  assert.equal(replica.header('x-forwarded-host'), host)
  const fixed = (await send('/fixed', host)).got!
  assert.equal(fixed.header('host'), 'internal.example:8443')
  assert.equal(fixed.header('x-forwarded-host'), host)
})

test('gwc test asserts the upstream path and lists rewrite stages; gwc explain shows the rewritten path', () => {
  const b = bundleFrom(`
upstream svc { replicas 127.0.0.1:1 }
route users { match path prefix "/users"; timeout 1s; rewrite regex "^/users/([0-9]+)$" "/u/$1"; rewrite host replica; proxy svc }
route api { match path prefix "/api"; timeout 1s; rewrite strip "/api"; proxy svc }
`)
  const res = runSuite(b.manifest, b.moduleText, [
    { request: 'GET http://a.example/users/42?x=1', expect: { upstream_path: '/u/42?x=1', stages: ['rewrite', 'rewrite', 'proxy'], forwarded: { host: null } } },
    { request: 'GET http://a.example/api/%2e%2e/api/v', expect: { upstream_path: '/v' } },
    { name: 'wrong', request: 'GET http://a.example/api/x', expect: { upstream_path: '/api/x' } },
  ])
  assert.deepEqual(res.cases.map(c => c.failures), [[], [], ['upstream_path: expected /api/x, got /x']])
  const e = explainRequest(b.manifest.ir, { method: 'GET', host: 'a.example', path: '/users/42', query: '?x=1', headers: { host: 'a.example' } })
  assert.equal(e.steps.find(s => s.kind === 'rewrite')?.note, 'sent upstream as /u/42?x=1')
  assert.match(e.steps.find(s => s.kind === 'proxy')!.text, /^proxy as \/u\/42\?x=1 svc/)
})
