// test/runtime/routing.test.ts: requests reach the route config/match.ts says they should, over real sockets:
// host/path/method/header precedence, 404 shape, and path normalisation before matching (dot-segments,
// encoded dots, repeated slashes), with encoded slashes and backslashes refused with 400.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Client } from 'undici'
import { rawRequest, replicaAddrs, requestPath, startRig, type Echo, type Rig } from './fixtures.js'

let rig: Rig
let client: Client

const policy = (addrs: string) => `
upstream web { replicas ${addrs} }

route public   { match path prefix "/public"; timeout 2s; headers response set X-Route "public"; proxy web }
route admin    { match path prefix "/admin"; timeout 2s; respond 403 json "{\\"error\\":\\"admin_only\\"}" header X-Route "admin" }
route ping     { match path exact "/ping"; timeout 2s; respond 200 text "pong" header X-Route "ping" }
route host     { match host "api.test" path prefix "/"; timeout 2s; headers response set X-Route "host"; proxy web }
route wild     { match host "*.api.test" path prefix "/"; timeout 2s; headers response set X-Route "wild"; proxy web }
route items    { match host "api.test" path prefix "/items"; timeout 2s; headers response set X-Route "items"; proxy web }
route writes   { match host "api.test" path prefix "/items" method POST PUT; timeout 2s; headers response set X-Route "writes"; proxy web }
route canary   { match host "api.test" path prefix "/items" header X-Canary "yes"; timeout 2s; headers response set X-Route "canary"; proxy web }
`

before(async () => {
  // /public/… on the stub echoes the request it received
  rig = await startRig({ name: 'web', count: 1, rules: [{ path: '/public', mode: 'echo' }] }, s => policy(replicaAddrs(s)))
  client = new Client(rig.gw.url)
})
after(async () => {
  await client.close()
  await rig.close()
})

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => requestPath(client, rig.gw.url, path, { method, headers })

test('no route → 404 {"error":"no_route"} with the request id, and nothing reaches the upstream', async () => {
  rig.stub.reset()
  const r = await get('/nothing/here', { host: 'other.test' })
  assert.equal(r.status, 404)
  assert.match(String(r.headers['content-type']), /^application\/json/)
  const body = JSON.parse(r.text)
  assert.equal(body.error, 'no_route')
  assert.equal(body.request_id, r.headers['x-request-id'])
  assert.equal(rig.stub.stats().requests, 0)
})

test('host precedence: exact beats wildcard beats any; the Host port and case are ignored', async () => {
  assert.equal((await get('/x', { host: 'api.test' })).headers['x-route'], 'host')
  assert.equal((await get('/x', { host: 'API.Test:8443' })).headers['x-route'], 'host')
  assert.equal((await get('/x', { host: 'eu.api.test' })).headers['x-route'], 'wild')
  assert.equal((await get('/x', { host: 'a.b.api.test' })).headers['x-route'], 'wild')
  // the wildcard matches subdomains only, not the apex with another name glued on
  assert.equal((await get('/x', { host: 'notapi.test' })).status, 404)
  // host rank comes before path rank: the catch-all of api.test beats the longer /public prefix of any host
  assert.equal((await get('/public/a', { host: 'api.test' })).headers['x-route'], 'host')
  assert.equal((await get('/public/a', { host: 'other.test' })).headers['x-route'], 'public')
})

test('path prefixes are segment-aware and a longer prefix wins', async () => {
  assert.equal((await get('/items', { host: 'api.test' })).headers['x-route'], 'items')
  assert.equal((await get('/items/7', { host: 'api.test' })).headers['x-route'], 'items')
  assert.equal((await get('/itemsx', { host: 'api.test' })).headers['x-route'], 'host')
  assert.equal((await get('/public', { host: 'other.test' })).headers['x-route'], 'public')
  assert.equal((await get('/publicity', { host: 'other.test' })).status, 404)
  assert.equal((await get('/ping', { host: 'other.test' })).text, 'pong')
  assert.equal((await get('/ping/x', { host: 'other.test' })).status, 404)
})

test('a listed method beats a header condition, which beats neither', async () => {
  assert.equal((await get('/items/1', { host: 'api.test' }, 'POST')).headers['x-route'], 'writes')
  assert.equal((await get('/items/1', { host: 'api.test', 'x-canary': 'yes' }, 'POST')).headers['x-route'], 'writes')
  assert.equal((await get('/items/1', { host: 'api.test', 'x-canary': 'yes' })).headers['x-route'], 'canary')
  assert.equal((await get('/items/1', { host: 'api.test', 'x-canary': 'no' })).headers['x-route'], 'items')
  assert.equal((await get('/items/1', { host: 'api.test' }, 'DELETE')).headers['x-route'], 'items')
})

test('dot-segments, encoded dots and repeated slashes are resolved before matching: /public/../admin reaches admin', async () => {
  rig.stub.reset()
  for (const p of ['/public/../admin', '/public/%2e%2e/admin', '/public/%2E%2e/admin', '/public/.%2E/admin/', '//public/..//admin', '/public/./x/../../admin']) {
    const r = await get(p, { host: 'other.test' })
    assert.equal(r.status, 403, p)
    assert.equal(r.headers['x-route'], 'admin', p)
  }
  assert.equal(rig.stub.stats().requests, 0, 'none of them was forwarded')
  // `..` never climbs above the root
  assert.equal((await get('/../../ping', { host: 'other.test' })).text, 'pong')
})

test('the upstream receives the normalised path and the query unchanged', async () => {
  const cases: [string, string][] = [
    ['//public///x', '/public/x'],
    ['/public/./a/../b', '/public/b'],
    ['/public/%7Euser/%41', '/public/~user/A'],
    ['/public/a%3fb', '/public/a%3Fb'],
    ['/public/x?a=1&b=%2F&c=../d', '/public/x?a=1&b=%2F&c=../d'],
    ['/%70ublic', '/public'],
  ]
  for (const [sent, want] of cases) {
    const r = await get(sent, { host: 'other.test' })
    assert.equal(r.status, 200, sent)
    assert.equal(r.headers['x-route'], 'public', sent)
    assert.equal((JSON.parse(r.text) as Echo).url, want, sent)
  }
})

test('encoded slashes, backslashes and bad escapes are refused with 400 and never forwarded', async () => {
  rig.stub.reset()
  for (const p of ['/public%2F..%2Fadmin', '/public/a%2fb', '/public/a%5Cb', '/public/a%00', '/public/%zz', '/public/%4']) {
    const r = await get(p, { host: 'other.test' })
    assert.equal(r.status, 400, p)
    assert.equal(JSON.parse(r.text).error, 'bad_request', p)
  }
  const raw = await rawRequest(rig.port, 'GET /public\\..\\admin HTTP/1.1\r\nHost: other.test\r\n\r\n')
  assert.equal(raw.status, 400)
  assert.equal(rig.stub.stats().requests, 0)
})
