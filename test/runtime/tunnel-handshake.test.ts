// test/runtime/tunnel-handshake.test.ts (issue 14): the upgrade handshake's bookkeeping, found by mutating
// runtime/tunnel/tunnels.ts: each way a handshake ends counted once under the upstream's outcome (1xx for a 101,
// the refusal's class, 5xx for a refusal body over the bound, reset for a protocol not offered, timeout,
// aborted), the replica's health and the bulkhead told (a slot for the handshake only), the route's max_open slot
// given back by every handshake that does not become a tunnel, a refusal passed on with its own length, a
// weighted split moving an upgrade off an upstream that cannot take it, a query key removed from the upgrade's
// target. Through real sockets: a gateway in front of a raw upstream that answers by path.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Server, type Socket } from 'node:net'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { accessLine } from '../helpers/access-log.js'
import { deadAddress } from '../helpers/dead-address.js'
import { afterHead, noTunnels, rawHeadServer } from '../helpers/tunnel.js'
import { startIdp } from '../../testkit/idp/index.js'
import { sleep, WireConnection } from '../helpers/wire.js'

const SWITCH = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n\r\n'
const refusal = (status: string, body = 'refused'): string => `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`
/** What the raw upstream does with an upgrade request, by the first segment of its path. */
const behaviours: Record<string, (s: Socket, target: string) => void> = {
  switch: s => { s.write(SWITCH); s.on('data', d => s.write(d)); s.on('end', () => s.end()) },
  slow101: s => { setTimeout(() => { if (!s.destroyed) s.write(SWITCH) }, 150) },
  r200: s => s.end(refusal('200 OK')),
  r300: s => s.end(refusal('300 Multiple Choices')),
  r400: s => s.end(refusal('400 Bad Request')),
  r500: s => s.end(refusal('500 Internal Server Error')),
  r302: s => s.end(refusal('302 Found')),
  r403: s => s.end(refusal('403 Forbidden')),
  r503: s => s.end(refusal('503 Service Unavailable')),
  chunked: s => s.end('HTTP/1.1 403 Forbidden\r\ntransfer-encoding: chunked\r\n\r\n3\r\nnot\r\n4\r\n you\r\n0\r\n\r\n'),
  interim: s => s.end('HTTP/1.1 100 Continue\r\n\r\n' + refusal('403 Forbidden', 'after 100')),
  big: s => { s.write(`HTTP/1.1 403 Forbidden\r\ncontent-length: ${1024 * 1024 + 1}\r\n\r\n`); s.end(Buffer.alloc(1024 * 1024 + 1, 0x61)) },
  exact: s => { s.write(`HTTP/1.1 403 Forbidden\r\ncontent-length: ${1024 * 1024}\r\n\r\n`); s.end(Buffer.alloc(1024 * 1024, 0x62)) },
  other: s => s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'),
  two: s => s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp, websocket\r\n\r\n'),
  none: s => s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n'),
  seven: s => { s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\nX-Seven: zzz\r\n\r\n'); s.on('end', () => s.end()) },
  ws101: s => s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'),
  twover: s => s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp/2, websocket\r\n\r\n'),
  latin101: s => { s.write(Buffer.concat([Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\nX-Note: caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\n')])); s.on('end', () => s.end()) },
  upper: s => { s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUPGRADE: RawTCP/2\r\n\r\n'); s.on('data', d => s.write(d)); s.on('end', () => s.end()) },
  silent: () => undefined,
  head403: s => s.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 1234\r\n\r\n'),
  r304: s => s.end('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n'),
  r204: s => s.end('HTTP/1.1 204 No Content\r\nX-Why: no\r\n\r\n'),
  // the client's reset and the upstream's answer leave in one turn of the test's loop, the reset first: the gateway
  // (same process) reads both in one poll, so it finds its client socket destroyed before that socket's 'close' ran
  race101: s => { racer!.resetAndDestroy(); s.write(SWITCH); s.on('end', () => s.end()) },
  racereset: s => { racer!.resetAndDestroy(); s.resetAndDestroy() },
  // a plain request answered after 700 ms; the next request on the same connection is recorded, not answered
  slowplain: s => setTimeout(() => {
    s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
    afterHead(s, buf => targets.push(buf.toString('latin1', 0, buf.indexOf('\r\n')).split(' ')[1]))
  }, 700),
}

const targets: string[] = []
/** The client socket the race behaviours reset. */
let racer: Socket | null = null
const closedByGateway: string[] = []
let up: { server: Server; port: number }, gw: TestGateway
const dir = mkdtempSync(join(tmpdir(), 'gwp-handshake-'))
const logFile = join(dir, 'access.log')
const KEY = 'k-handshake-0123456789abcdef'
const keysFile = join(dir, 'keys.txt')
writeFileSync(keysFile, `sha256:${createHash('sha256').update(KEY).digest('hex')} partner-9\n`)

before(async () => {
  up = await rawHeadServer((s, target) => {
    targets.push(target)
    const name = target.split('?')[0].split('/').at(-1)!
    s.once('end', () => closedByGateway.push(name))
    behaviours[name](s, target)
  })
  gw = await startGateway(`
upstream raw { replicas 127.0.0.1:${up.port}; bulkhead max_in_flight 1; health passive eject_after 1000 }
upstream frail { replicas 127.0.0.1:${up.port}; health passive eject_after 2 for 1m }
upstream touchy { replicas 127.0.0.1:${up.port}; health passive eject_after 1 for 1m }
route hs { match path prefix "/hs" method GET; timeout 600ms; upgrade rawtcp websocket; proxy raw }
route frail { match path prefix "/frail" method GET; timeout 600ms; upgrade rawtcp; proxy frail }
route touchy { match path prefix "/touchy" method GET; timeout 600ms; upgrade rawtcp; proxy touchy }
`, { accessLog: true, logDestination: logFile })
})
after(async () => { await gw.close(); up.server.close() })

const head = (path: string, id: string, extra = '', offer = 'rawtcp'): string =>
  `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: ${offer}\r\nX-Request-Id: ${id}\r\n${extra}\r\n`

interface Answer { s: Socket; status: number; head: string; body: Buffer }
/** Sends an upgrade request; resolves with the answer's head (and, for a refusal, its body) and the open socket. */
async function upgrade(path: string, id: string, extra = '', offer = 'rawtcp', port = gw.running.address.port): Promise<Answer> {
  const c = await WireConnection.open(port)
  await c.write(head(path, id, extra, offer))
  const r = await c.read({ timeoutMs: 3000 })
  return { s: c.socket, status: r.status, head: r.head, body: r.body }
}

const metricsText = async (): Promise<string> => (await fetch(`${gw.adminUrl}/metrics`)).text()
/** The upstream attempts counted by outcome, and the handshake duration histogram's count. */
async function counts(upstream: string) {
  const text = await metricsText()
  const by = (outcome: string): number => metric(text, 'gw_upstream_requests_total', { upstream, outcome }) ?? 0
  return {
    '1xx': by('1xx'), '2xx': by('2xx'), '3xx': by('3xx'), '4xx': by('4xx'), '5xx': by('5xx'),
    timeout: by('timeout'), reset: by('reset'), aborted: by('aborted'), connect_error: by('connect_error'),
    observed: metric(text, 'gw_upstream_request_duration_seconds_count', { upstream }) ?? 0,
    seconds: metric(text, 'gw_upstream_request_duration_seconds_sum', { upstream }) ?? 0,
    dispatched: metric(text, 'gw_upstream_dispatched_total', { upstream }) ?? 0,
    inFlight: metric(text, 'gw_upstream_in_flight_requests', { upstream }) ?? 0,
    healthy: metric(text, 'gw_upstream_replica_healthy', { upstream }),
  }
}
type Counts = Awaited<ReturnType<typeof counts>>
/** Only the counters that moved, and by how much. */
function delta(a: Counts, b: Counts): Record<string, number> {
  const d: Record<string, number> = {}
  for (const k of ['1xx', '2xx', '3xx', '4xx', '5xx', 'timeout', 'reset', 'aborted', 'connect_error', 'observed', 'dispatched'] as const) if (b[k] !== a[k]) d[k] = b[k] - a[k]
  return d
}

test('a 101: one attempt counted 1xx and timed; nothing in flight and the bulkhead slot free while the tunnel is open', async () => {
  const before = await counts('raw')
  const a = await upgrade('/hs/switch', 'hs-101')
  assert.equal(a.status, 101)
  const during = await counts('raw')
  assert.deepEqual(delta(before, during), { '1xx': 1, observed: 1, dispatched: 1 })
  const took = during.seconds - before.seconds
  assert.ok(took > 0 && took < 0.5, `handshake observed as ${took} s`)
  assert.doesNotMatch(a.head, /undefined/)
  assert.equal(during.inFlight, 0)
  // bulkhead max_in_flight 1: a second handshake is admitted while the first tunnel is open
  const b = await upgrade('/hs/switch', 'hs-101-second')
  assert.equal(b.status, 101)
  for (const x of [a, b]) {
    x.s.write('ping')
    const echo = await new Promise<string>(r => x.s.once('data', d => r(d.toString())))
    assert.equal(echo, 'ping')
    x.s.end()
  }
  await noTunnels(gw)
  const line = await accessLine(logFile, 'hs-101')
  assert.equal(line?.status, 101)
  assert.equal(line?.upstreamName, 'raw')
  assert.equal(line?.upstream, `http://127.0.0.1:${up.port}`)
  assert.equal(line?.tries, 1)
  const ms = line?.upstreamMs as number
  assert.ok(ms >= 0 && ms < 1000, `upstreamMs ${ms}`)
})

test('refusals: each counted under its class, passed on with its status, its body and a length that matches it', async () => {
  const cases = [['r200', 200, '2xx'], ['r300', 300, '3xx'], ['r302', 302, '3xx'], ['r400', 400, '4xx'], ['r403', 403, '4xx'], ['r500', 500, '5xx']] as const
  for (const [name, status, outcome] of cases) {
    const before = await counts('raw')
    const a = await upgrade(`/hs/${name}`, `hs-${name}`)
    a.s.destroy()
    assert.equal(a.status, status)
    assert.equal(a.body.toString(), 'refused')
    assert.equal((a.head.match(/\r\ncontent-length: /gi) ?? []).length, 1, a.head)
    assert.match(a.head, /\r\ncontent-length: 7(\r\n|$)/)
    assert.deepEqual(delta(before, await counts('raw')), { [outcome]: 1, observed: 1, dispatched: 1 })
    const line = await accessLine(logFile, `hs-${name}`)
    assert.equal(line?.status, status)
    assert.equal(line?.reason, 'upgrade_refused_upstream')
    assert.equal(line?.tries, 1)
    const ms = line?.upstreamMs as number
    assert.ok(ms >= 0 && ms < 1000, `upstreamMs ${ms}`)
  }
  // a chunked refusal is passed on with the length of what it carried; an interim 100 before it is not passed on
  const c = await upgrade('/hs/chunked', 'hs-chunked')
  c.s.destroy()
  assert.equal(c.status, 403)
  assert.equal(c.body.toString(), 'not you')
  assert.match(c.head, /\r\ncontent-length: 7(\r\n|$)/)
  assert.doesNotMatch(c.head, /transfer-encoding/i)
  const i = await upgrade('/hs/interim', 'hs-interim')
  i.s.destroy()
  if (process.env.GW_ENGINE !== 'node') { // the http1 engine's pool (the default)
    assert.equal(i.status, 403)
    assert.equal(i.body.toString(), 'after 100')
  } else assert.equal(i.status, 502, 'undici takes a 1xx other than 101 to an upgrade request as a failed handshake')
})

test('a refusal body of 1 MiB is passed on; one byte more is 502 bad_gateway, counted 5xx', async () => {
  const before = await counts('raw')
  const ok = await upgrade('/hs/exact', 'hs-exact')
  ok.s.destroy()
  assert.equal(ok.status, 403)
  assert.equal(ok.body.length, 1024 * 1024)
  const big = await upgrade('/hs/big', 'hs-big')
  big.s.destroy()
  assert.equal(big.status, 502)
  assert.match(big.body.toString(), /"error":"bad_gateway"/)
  assert.deepEqual(delta(before, await counts('raw')), { '4xx': 1, '5xx': 1, observed: 2, dispatched: 2 })
})

test('a 101 to a protocol the client did not offer, to two protocols or to none: 502, counted reset, the upstream socket closed', async () => {
  // h2c: not allowed by the route; websocket: allowed but not offered by this client; a list, with or without a version
  for (const name of ['other', 'ws101', 'two', 'twover', 'none']) {
    const before = await counts('raw')
    const a = await upgrade(`/hs/${name}`, `hs-${name}`)
    a.s.destroy()
    assert.equal(a.status, 502, name)
    assert.match(a.body.toString(), /"error":"bad_gateway"/)
    assert.deepEqual(delta(before, await counts('raw')), { reset: 1, observed: 1, dispatched: 1 }, name)
    for (let k = 0; k < 100 && !closedByGateway.includes(name); k++) await sleep(10)
    assert.ok(closedByGateway.includes(name), `upstream socket of ${name} not closed`)
  }
  assert.equal((await counts('raw')).inFlight, 0)
  // held against the replica: eject_after 1 takes it out of rotation
  const t = await upgrade('/touchy/other', 'touchy-other')
  t.s.destroy()
  assert.equal(t.status, 502)
  assert.equal((await counts('touchy')).healthy, 0)
  const n = await upgrade('/touchy/switch', 'touchy-after')
  n.s.destroy()
  assert.equal(n.status, 503)
})

test('a 101 naming the offered protocol in other case, with a version: accepted, and passed on as the upstream wrote it', async () => {
  const a = await upgrade('/hs/upper', 'hs-upper')
  assert.equal(a.status, 101)
  assert.match(a.head, /\r\nupgrade: RawTCP\/2(\r\n|$)/)
  a.s.write('ping')
  assert.equal(await new Promise<string>(r => a.s.once('data', d => r(d.toString()))), 'ping')
  a.s.end()
  await noTunnels(gw)
})

test('the 101 is read from its Upgrade header only; a client offering two protocols gets the one the upstream chose', async () => {
  const a = await upgrade('/hs/seven', 'hs-seven')
  assert.equal(a.status, 101)
  assert.match(a.head, /\r\nupgrade: rawtcp\r\n/)
  a.s.end()
  const b = await upgrade('/hs/switch', 'hs-two-offered', '', 'websocket, rawtcp')
  assert.equal(b.status, 101)
  assert.match(b.head, /\r\nupgrade: rawtcp\r\n/)
  b.s.end()
  await noTunnels(gw)
})

test('a 101\'s header bytes reach the client as they came (latin1, one byte each)', async () => {
  const a = await upgrade('/hs/latin101', 'hs-latin')
  assert.equal(a.status, 101)
  const raw = Buffer.from(a.head, 'latin1')
  const at = a.head.toLowerCase().indexOf('x-note: caf')
  assert.ok(at > 0, JSON.stringify(a.head))
  assert.equal(raw[at + 11], 0xe9)
  assert.ok(at + 12 === raw.length || raw[at + 12] === 0x0d, 'one byte, not its UTF-8 form')
  a.s.end()
  await noTunnels(gw)
})

test('at shutdown a tunnel that is not a WebSocket is closed without a byte written into it', async () => {
  const g = await startGateway(`
upstream raw { replicas 127.0.0.1:${up.port} }
route hs { match path prefix "/hs" method GET; timeout 600ms; upgrade rawtcp websocket; proxy raw }
`, { drainTimeoutMs: '200ms' })
  const a = await upgrade('/hs/switch', 'raw-shutdown', '', 'rawtcp', g.running.address.port)
  assert.equal(a.status, 101)
  const got: Buffer[] = []
  a.s.on('data', d => got.push(d))
  const ended = new Promise(r => a.s.once('end', r))
  await g.close()
  await ended
  assert.equal(Buffer.concat(got).length, 0, 'bytes written into a raw tunnel at shutdown')
  a.s.destroy()
})

test('a client reset ends its tunnel: counted client_error, and its access line written', async () => {
  const m = async (): Promise<number> => metric(await metricsText(), 'gw_tunnels_closed_total', { route: 'hs', reason: 'client_error' }) ?? 0
  const before = await m()
  const a = await upgrade('/hs/switch', 'hs-reset')
  assert.equal(a.status, 101)
  a.s.resetAndDestroy()
  await noTunnels(gw)
  assert.equal((await m()) - before, 1)
  const line = await accessLine(logFile, 'hs-reset')
  assert.equal((line?.tunnel as { reason: string } | undefined)?.reason, 'client_error')
})

test('the node engine\'s pool (undici) passes a refusal on with its body too', async () => {
  const g = await startGateway(`
upstream raw { replicas 127.0.0.1:${up.port} }
route hs { match path prefix "/hs" method GET; timeout 600ms; upgrade rawtcp; proxy raw }
`, { engine: 'node' })
  try {
    const a = await upgrade('/hs/r403', 'node-403', '', 'rawtcp', g.running.address.port)
    a.s.destroy()
    assert.equal(a.status, 403)
    assert.equal(a.body.toString(), 'refused')
  } finally { await g.close() }
})

test('no answer before the route deadline: 504 upstream_timeout, counted timeout, and the replica charged for it', async () => {
  const before = await counts('frail')
  const t0 = performance.now()
  const a = await upgrade('/frail/silent', 'frail-silent')
  a.s.destroy()
  assert.equal(a.status, 504)
  assert.match(a.body.toString(), /"error":"upstream_timeout"/)
  assert.ok(performance.now() - t0 >= 550, `answered after ${Math.round(performance.now() - t0)} ms`)
  assert.deepEqual(delta(before, await counts('frail')), { timeout: 1, observed: 1, dispatched: 1 })
  // eject_after 2: a second failure (a 503 refusal counts as one) takes the replica out of rotation
  const r = await upgrade('/frail/r503', 'frail-503')
  r.s.destroy()
  assert.equal(r.status, 503)
  assert.equal(r.body.toString(), 'refused')
  const after = await counts('frail')
  assert.equal(after.healthy, 0, 'replica ejected after two failed handshakes')
  const n = await upgrade('/frail/switch', 'frail-after')
  n.s.destroy()
  assert.equal(n.status, 503)
  assert.match(n.body.toString(), /"error":"upstream_unavailable"/)
})

test('the client leaving during the handshake: counted aborted, not held against the replica, nothing written, the route slot given back', async () => {
  // route `one` has max_open 1 on upstream `frail`, whose replica the previous test ejected for a minute: reload
  // with a fresh copy of the policy would reset it, so this test uses its own upstream state through `hs`
  const before = await counts('raw')
  const s = connect({ port: gw.running.address.port, host: '127.0.0.1' })
  s.on('error', () => undefined)
  await new Promise(r => s.once('connect', r))
  s.write(head('/hs/slow101', 'hs-left'))
  for (let k = 0; k < 100 && !targets.includes('/hs/slow101'); k++) await sleep(5)
  s.resetAndDestroy() // gone: a reset (a FIN alone is a half-close, and the tunnel would open)
  await sleep(300)
  const after = await counts('raw')
  assert.deepEqual(delta(before, after), { aborted: 1, observed: 1, dispatched: 1 })
  assert.equal(after.inFlight, 0)
  assert.equal(after.healthy, 1)
  const line = await accessLine(logFile, 'hs-left')
  assert.equal(line?.reason, 'client_aborted')
  assert.equal(gw.running.gateway.tunnels.size, 0)
})

test('a handshake the client abandoned is not a success for the replica: two failures around it still eject it', async () => {
  await gw.reload(`
upstream e2 { replicas 127.0.0.1:${up.port}; health passive eject_after 2 for 1m }
route e2 { match path prefix "/e2" method GET; timeout 300ms; upgrade rawtcp; proxy e2 }
`)
  const f1 = await upgrade('/e2/r503', 'e2-1')
  f1.s.destroy()
  assert.equal(f1.status, 503)
  const s = connect({ port: gw.running.address.port, host: '127.0.0.1' })
  s.on('error', () => undefined)
  await new Promise(r => s.once('connect', r))
  const n0 = targets.length
  s.write(head('/e2/slow101', 'e2-left'))
  for (let k = 0; k < 100 && targets.length === n0; k++) await sleep(5)
  s.resetAndDestroy()
  await sleep(100)
  const f2 = await upgrade('/e2/r500', 'e2-2')
  f2.s.destroy()
  assert.equal(f2.status, 500)
  assert.equal((await counts('e2')).healthy, 0, 'ejected after two failures, the abandoned handshake between them not counted')
})

test('max_open 1: every handshake that does not become a tunnel gives its slot back; an open tunnel holds it', async () => {
  await gw.reload(`
upstream fresh { replicas 127.0.0.1:${up.port} }
route one { match path prefix "/one" method GET; timeout 300ms; upgrade rawtcp max_open 1; proxy fresh }
`)
  for (const [name, status] of [['r403', 403], ['big', 502], ['other', 502], ['silent', 504]] as const) {
    const a = await upgrade(`/one/${name}`, `one-${name}`)
    a.s.destroy()
    assert.equal(a.status, status, name)
  }
  // a client that leaves mid-handshake gives it back too
  const s = connect({ port: gw.running.address.port, host: '127.0.0.1' })
  s.on('error', () => undefined)
  await new Promise(r => s.once('connect', r))
  s.write(head('/one/slow101', 'one-left'))
  await sleep(50)
  s.resetAndDestroy()
  await sleep(250)
  const t = await upgrade('/one/switch', 'one-open')
  assert.equal(t.status, 101)
  const full = await upgrade('/one/switch', 'one-full')
  full.s.destroy()
  assert.equal(full.status, 503)
  assert.match(full.body.toString(), /"error":"tunnels_full"/)
  assert.equal((await accessLine(logFile, 'one-full'))?.reason, 'tunnels_full')
  t.s.end()
  await noTunnels(gw)
  const again = await upgrade('/one/switch', 'one-again')
  assert.equal(again.status, 101)
  again.s.end()
  await noTunnels(gw)
})

test('a weighted split moves an upgrade off an upstream that cannot take it, and counts the failover', async () => {
  await gw.reload(`
upstream gone { replicas ${deadAddress(3)}; health passive eject_after 1 for 1m }
upstream fresh { replicas 127.0.0.1:${up.port} }
route split { match path prefix "/split" method GET; timeout 600ms; upgrade rawtcp; proxy gone 90%, fresh 10% }
`)
  // until `gone` is picked once: its connection refused (502) ejects its only replica
  let refused = 0
  for (let k = 0; k < 50 && refused === 0; k++) {
    const a = await upgrade('/split/switch', `split-probe-${k}`)
    a.s.destroy()
    if (a.status === 502) refused++
    else assert.equal(a.status, 101)
  }
  assert.equal(refused, 1)
  assert.equal((await counts('gone')).connect_error, 1, 'the refused connection counted connect_error')
  await noTunnels(gw)
  const fo = async (): Promise<number> => metric(await metricsText(), 'gw_upstream_failovers_total', { from: 'gone', to: 'fresh' }) ?? 0
  const before = await fo()
  const gone0 = await counts('gone'), fresh0 = await counts('fresh')
  for (let k = 0; k < 10; k++) {
    const a = await upgrade('/split/switch', `split-${k}`)
    assert.equal(a.status, 101)
    a.s.end()
  }
  await noTunnels(gw)
  const after = { gone: await counts('gone'), fresh: await counts('fresh') }
  assert.equal(after.fresh['1xx'] - fresh0['1xx'], 10, 'every upgrade counted on the upstream that took it')
  assert.equal(after.gone.dispatched, gone0.dispatched, 'none dispatched to the ejected upstream')
  const moved = (await fo()) - before
  assert.ok(moved >= 5 && moved <= 10, `failovers ${moved} of 10 (gone has 90% of the weight)`)
})

test('a split whose every upstream is unavailable answers 503; a failover stops at the first upstream that takes the upgrade, and a full bulkhead is counted once', async () => {
  await gw.reload(`
upstream gone { replicas ${deadAddress(3)}; health passive eject_after 1 for 1m }
upstream gone2 { replicas ${deadAddress(4)}; health passive eject_after 1 for 1m }
upstream fresh { replicas 127.0.0.1:${up.port} }
upstream fresh2 { replicas 127.0.0.1:${up.port} }
upstream tight { replicas 127.0.0.1:${up.port}; bulkhead max_in_flight 1 }
route g1 { match path prefix "/g1" method GET; timeout 600ms; upgrade rawtcp; proxy gone }
route g2 { match path prefix "/g2" method GET; timeout 600ms; upgrade rawtcp; proxy gone2 }
route none { match path prefix "/none" method GET; timeout 600ms; upgrade rawtcp; proxy gone 50%, gone2 50% }
route three { match path prefix "/three" method GET; timeout 600ms; upgrade rawtcp; proxy gone 98%, fresh 1%, fresh2 1% }
route tight { match path prefix "/tight" method GET; timeout 600ms; upgrade rawtcp; proxy tight }
route tsplit { match path prefix "/tsplit" method GET; timeout 600ms; upgrade rawtcp; proxy tight 99%, fresh 1% }
`)
  // each refused connection ejects its upstream's one replica (gone may be out already: the last test ejected it)
  for (const g of ['g1', 'g2']) { const a = await upgrade(`/${g}/switch`, `${g}-eject`); a.s.destroy(); assert.ok(a.status === 502 || a.status === 503, String(a.status)) }
  const n = await upgrade('/none/switch', 'none-503')
  n.s.destroy()
  assert.equal(n.status, 503)
  assert.match(n.body.toString(), /"error":"upstream_unavailable"/)
  const fo = async (to: string): Promise<number> => metric(await metricsText(), 'gw_upstream_failovers_total', { from: 'gone', to }) ?? 0
  for (let k = 0; k < 6; k++) { const a = await upgrade('/three/switch', `three-${k}`); assert.equal(a.status, 101); a.s.end() }
  await noTunnels(gw)
  assert.ok((await fo('fresh')) >= 3, 'gone\'s upgrades moved to the next upstream of the split')
  assert.equal(await fo('fresh2'), 0, 'and no further')
  // tight's one bulkhead slot held by a slow handshake: the split moves the next upgrade on, counting one rejection
  const rejected = async (): Promise<number> => metric(await metricsText(), 'gw_upstream_bulkhead_rejected_total', { upstream: 'tight' }) ?? 0
  const r0 = await rejected()
  const slow = upgrade('/tight/slow101', 'tight-slow')
  for (let k = 0; k < 100 && !targets.includes('/tight/slow101'); k++) await sleep(5)
  const moved = await upgrade('/tsplit/switch', 'tsplit-moved')
  assert.equal(moved.status, 101)
  moved.s.end()
  assert.equal((await rejected()) - r0, 1)
  const first = await slow
  assert.equal(first.status, 101)
  first.s.resetAndDestroy()
  await noTunnels(gw)
})

test('least_conn counts handshakes in flight: a second upgrade while the first is being answered goes to the other replica', async () => {
  const seen: string[] = []
  const up2 = await rawHeadServer((s, target) => { seen.push(target); behaviours[target.split('/').at(-1)!](s, target) })
  try {
    await gw.reload(`
upstream lc { replicas 127.0.0.1:${up.port}, 127.0.0.1:${up2.port}; balance least_conn; health passive eject_after 1000 }
route lc { match path prefix "/lc" method GET; timeout 1s; upgrade rawtcp; proxy lc }
`)
    const mine = (): number => targets.filter(t => t.startsWith('/lc/')).length
    const a = upgrade('/lc/slow101', 'lc-a')
    for (let k = 0; k < 100 && mine() + seen.length === 0; k++) await sleep(5)
    const b = await upgrade('/lc/switch', 'lc-b')
    assert.equal(b.status, 101)
    assert.deepEqual([mine(), seen.length], [1, 1], 'one handshake on each replica')
    for (const x of [b, await a]) x.s.resetAndDestroy()
    await noTunnels(gw)
  } finally { up2.server.close() }
})

test('a key in the query is removed from the upgrade\'s target; the other parameters stay, in order', async () => {
  await gw.reload(`
keys qkeys { file "${keysFile}"; query api_key }
upstream fresh { replicas 127.0.0.1:${up.port} }
route q { match path prefix "/q" method GET; auth qkeys; timeout 600ms; upgrade rawtcp; proxy fresh }
`)
  const a = await upgrade(`/q/switch?room=7&api_key=${KEY}&x=1`, 'q-key')
  assert.equal(a.status, 101)
  assert.equal(targets.at(-1), '/q/switch?room=7&x=1')
  a.s.end()
  const b = await upgrade(`/q/switch?api_key=${KEY}`, 'q-only')
  assert.equal(b.status, 101)
  assert.equal(targets.at(-1), '/q/switch')
  b.s.end()
  await noTunnels(gw)
})

test('a handshake queued for the upstream\'s only connection and timed out (504) is never written when the connection frees', async () => {
  await gw.reload(`
upstream one_conn { replicas 127.0.0.1:${up.port}; pool connections 1 }
route plain { match path prefix "/plain" method GET; timeout 3s; proxy one_conn }
route queued { match path prefix "/queued" method GET; timeout 300ms; upgrade rawtcp; proxy one_conn }
`)
  const plain = fetch(`${gw.url}/plain/slowplain`).then(async r => ({ status: r.status, text: await r.text() }))
  for (let k = 0; k < 100 && !targets.includes('/plain/slowplain'); k++) await sleep(5)
  const a = await upgrade('/queued/switch', 'queued-504')
  a.s.destroy()
  assert.equal(a.status, 504)
  assert.deepEqual(await plain, { status: 200, text: 'ok' })
  await sleep(300)
  assert.equal(targets.includes('/queued/switch'), false, 'the upstream got an upgrade request whose client had its 504')
})

test('a client that leaves while the route\'s stages run (a JWKS fetch) is never dispatched upstream', async () => {
  const idp = await startIdp({ algorithms: ['ES256'] })
  try {
    await gw.reload(`
upstream fresh { replicas 127.0.0.1:${up.port}; bulkhead max_in_flight 1 }
jwt idp { issuer "${idp.issuer}"; jwks "${idp.jwksUrl}"; algorithms ES256 }
route authed { match path prefix "/authed" method GET; auth idp; timeout 2s; upgrade rawtcp; proxy fresh }
upstream nobh { replicas 127.0.0.1:${up.port} }
route authed2 { match path prefix "/authed2" method GET; auth idp; timeout 2s; upgrade rawtcp; proxy nobh }
`)
    // a key the gateway has not fetched yet: the request waits for the (slow) JWKS
    await idp.rotate()
    idp.setDelay(300)
    const token = await idp.sign({}, { subject: 'u1' })
    idp.resetFetches()
    // two clients, one on an upstream with a bulkhead and one without, wait for the same fetch, and leave
    const left: Socket[] = []
    for (const path of ['/authed/switch', '/authed2/switch']) {
      const c = connect({ port: gw.running.address.port, host: '127.0.0.1' })
      c.on('error', () => undefined)
      await new Promise(r => c.once('connect', r))
      c.write(head(path, `left-${path.split('/')[1]}`, `Authorization: Bearer ${token}\r\n`))
      left.push(c)
    }
    for (let k = 0; k < 100 && idp.fetches === 0; k++) await sleep(5)
    assert.equal(idp.fetches, 1, 'the requests wait for a JWKS fetch')
    await sleep(20)
    for (const c of left) c.resetAndDestroy()
    await sleep(500)
    assert.equal(targets.includes('/authed/switch'), false, 'dispatched after the client left')
    assert.equal(targets.includes('/authed2/switch'), false, 'dispatched after the client left (no bulkhead)')
    // each is over: its access line says so, and nothing is left counted in flight
    for (const id of ['left-authed', 'left-authed2']) {
      const line = await accessLine(logFile, id)
      assert.equal(line?.status, 499, id)
      assert.equal(line?.reason, 'client_aborted', id)
    }
    assert.equal(metric(await metricsText(), 'gw_in_flight_requests'), 0)
    // the bulkhead's one slot was given back: the next upgrade is taken
    idp.setDelay(0)
    const a = await upgrade('/authed/switch', 'authed-after', `Authorization: Bearer ${token}\r\n`)
    assert.equal(a.status, 101)
    a.s.end()
    await noTunnels(gw)
  } finally { await idp.close() }
})

test('the breaker hears every handshake: refusals below 500 are successes, a 503 refusal is a failure', async () => {
  await gw.reload(`
upstream brk { replicas 127.0.0.1:${up.port}; breaker error_ratio 50% min_requests 2 window 10s open_for 5s; health passive eject_after 1000 }
route brk { match path prefix "/brk" method GET; timeout 600ms; upgrade rawtcp; proxy brk }
`)
  for (const name of ['r403', 'r400', 'r302']) {
    const a = await upgrade(`/brk/${name}`, `brk-${name}`)
    a.s.destroy()
    assert.equal(a.status, Number(name.slice(1)))
  }
  for (const name of ['r503', 'r500', 'r503', 'r503']) {
    const a = await upgrade(`/brk/${name}`, `brk-${name}`)
    a.s.destroy()
    assert.equal(a.status, Number(name.slice(1)))
  }
  // 4 failures of 7 in the window: open
  const open = await upgrade('/brk/switch', 'brk-open')
  open.s.destroy()
  assert.equal(open.status, 503)
  assert.match(open.body.toString(), /"error":"upstream_unavailable"/)
})

test('a client gone in the same turn as the upstream\'s answer (its close not yet run): 499 client_aborted, no tunnel, the max_open slot given back once', async () => {
  await gw.reload(`
upstream rc { replicas 127.0.0.1:${up.port}; health passive eject_after 1000 }
route race { match path prefix "/race" method GET; timeout 600ms; upgrade rawtcp max_open 1; proxy rc }
`)
  const closed = async (): Promise<number> => {
    const text = await metricsText()
    let n = 0
    for (const reason of ['closed', 'client_error', 'upstream_error', 'idle', 'lifetime', 'shutdown']) n += metric(text, 'gw_tunnels_closed_total', { route: 'race', reason }) ?? 0
    return n
  }
  const before = await counts('rc')
  // a 101 read after the client is gone: the handshake counts (1xx) but no tunnel opens; a reset read after it: no 502 is written
  for (const [name, outcome] of [['race101', '1xx'], ['racereset', 'reset']] as const) {
    const id = `race-${name}`
    racer = connect({ port: gw.running.address.port, host: '127.0.0.1' })
    racer.on('error', () => undefined)
    await new Promise(r => racer!.once('connect', r))
    racer.write(head(`/race/${name}`, id))
    const line = await accessLine(logFile, id)
    assert.deepEqual([line?.status, line?.reason], [499, 'client_aborted'], id)
    const after = await counts('rc')
    assert.equal(after[outcome] - before[outcome], 1, id)
  }
  assert.equal(await closed(), 0, 'no tunnel was opened')
  assert.equal(gw.running.gateway.tunnels.size, 0)
  // max_open 1: the slot is free, and held by the next tunnel
  const a = await upgrade('/race/switch', 'race-after')
  assert.equal(a.status, 101)
  const b = await upgrade('/race/switch', 'race-full')
  assert.equal(b.status, 503)
  for (const x of [a, b]) x.s.resetAndDestroy()
  await noTunnels(gw)
})

test('least_conn: a finished handshake leaves nothing in flight on its replica, so plain requests after it still alternate', async () => {
  const seen: string[] = []
  const up2 = await rawHeadServer((s, target) => { seen.push(target); behaviours[target.split('/').at(-1)!](s, target) })
  try {
    await gw.reload(`
upstream lc2 { replicas 127.0.0.1:${up.port}, 127.0.0.1:${up2.port}; balance least_conn; health passive eject_after 1000 }
route lc2 { match path prefix "/lc2" method GET; timeout 1s; upgrade rawtcp; proxy lc2 }
`)
    const refused = await upgrade('/lc2/r403', 'lc2-upgrade')
    refused.s.destroy()
    assert.equal(refused.status, 403)
    const first = seen.length
    for (let i = 0; i < 4; i++) {
      const c = await WireConnection.open(gw.running.address.port)
      await c.write(`GET /lc2/r403 HTTP/1.1\r\nHost: t\r\nX-Request-Id: lc2-${i}\r\n\r\n`)
      assert.equal((await c.read({ timeoutMs: 3000 })).status, 403)
      c.socket.destroy()
    }
    assert.equal(seen.length - first, 2, 'two of four plain requests on the second replica')
  } finally { up2.server.close() }
})

test('a refusal without a body (to a HEAD, a 304, a 204) keeps the upstream\'s Content-Length; a refusal with one gets the length of what was collected', async () => {
  await gw.reload(`
upstream bl { replicas 127.0.0.1:${up.port}; health passive eject_after 1000 }
route bodiless { match path prefix "/bodiless" method GET HEAD; timeout 600ms; upgrade rawtcp; proxy bl }
`)
  // the node engine's pool (undici) fails a 304 whose Content-Length is not 0 (UND_ERR_RES_CONTENT_LENGTH_MISMATCH): 502
  const node = process.env.GW_ENGINE === 'node'
  for (const [method, name, status, length] of [['HEAD', 'head403', 403, '1234'], ['GET', 'r304', node ? 502 : 304, node ? null : '1234'], ['HEAD', 'r403', 403, '7'], ['GET', 'r403', 403, '7'], ['GET', 'r204', 204, undefined]] as const) {
    const c = await WireConnection.open(gw.running.address.port)
    await c.write(head(`/bodiless/${name}`, `bl-${method}-${name}`).replace(/^GET/, method))
    const r = await c.read({ timeoutMs: 3000, head: method === 'HEAD' })
    c.socket.destroy()
    assert.equal(r.status, status, `${method} ${name}`)
    if (length === null) continue
    // a 204 has no Content-Length (RFC 9110 §8.6): the gateway adds none of its own
    assert.deepEqual(r.headers.filter(h => h[0].toLowerCase() === 'content-length').map(h => h[1]), length === undefined ? [] : [length], `${method} ${name}`)
    if (method === 'GET' && status === 403) assert.equal(r.body.toString(), 'refused')
    assert.equal(c.unread().length, 0, `${method} ${name}: nothing after the head${method === 'GET' && status === 403 ? ' and body' : ''}`)
  }
})
