// lab/test/harness-parsers.test.ts: the harness's small readers and planners — CPU lists and placement, the
// topology's move to free ports, the one-route policy, CPU profiles (windowed), and raw HTTP responses.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { parseCpuList, pinPrefix, planCpus } from '../harness/cpu-plan.js'
import { areaOf, summarizeProfile } from '../harness/cpu-profile.js'
import { ResponseReader } from '../harness/raw-http.js'
import { freePortStubConfig, loadTopology, parseListening, portMap, remapPorts, remapTopologyGwp, tinyGwp } from '../harness/topology.js'

test('CPU lists parse like the kernel writes them', () => {
  assert.deepEqual(parseCpuList('0-3,6,8-9'), [0, 1, 2, 3, 6, 8, 9])
  assert.deepEqual(parseCpuList('1\n'), [1])
  assert.throws(() => parseCpuList('a-b'), /bad CPU list/)
})

test('placement: proxy alone on a CPU when there are two, the idler one when another is busy; none without taskset', () => {
  const two = planCpus([0, 1], true)
  assert.deepEqual(two.cpus, { load: '0', upstream: '0', proxy: '1' })
  assert.deepEqual(pinPrefix(two, 'proxy'), ['taskset', '-c', '1'])
  const busy1 = planCpus([0, 1], true, new Map([[0, 0.1], [1, 0.9]]))
  assert.deepEqual(busy1.cpus, { load: '1', upstream: '1', proxy: '0' })
  assert.match(busy1.description, /proxy under test on CPU 0 \(CPU busy before the run from other processes: 0 10%, 1 90%\)/)
  assert.equal(planCpus([0, 1], true, new Map([[0, 0.5], [1, 0.6]])).cpus.proxy, '1', 'a small difference does not swap')
  assert.deepEqual(planCpus([0, 1, 2, 3], true).cpus, { load: '0', upstream: '1', proxy: '2,3' })
  const none = planCpus([0, 1], false)
  assert.equal(none.pinned, false)
  assert.deepEqual(pinPrefix(none, 'proxy'), [])
  assert.match(planCpus([0], true).description, /only 1 CPU/)
})

test('the topology moves to free ports: every replica address and the JWKS URL, never the issuer', () => {
  const topo = loadTopology()
  const sc = topo.sidecar
  const cfg = freePortStubConfig(sc)
  assert.ok(cfg.services!.every((s) => s.ports.every((p) => p === 0)))
  assert.deepEqual(cfg.services!.map((s) => s.name), Object.keys(sc.upstreams))
  const lines: string[] = []
  let next = 40000
  for (const [name, u] of Object.entries(sc.upstreams)) u.ports.forEach((_, i) => lines.push(`listening ${name}-${i + 1} http://127.0.0.1:${next++}`))
  const listening = parseListening(lines)
  assert.equal(listening.size, 36)
  const map = portMap(sc, listening, { from: 9100, to: 45555 })
  const gwp = remapTopologyGwp(topo.gwp, map, sc.idp.issuer)
  assert.doesNotMatch(gwp, /127\.0\.0\.1:92\d\d\b/, 'no committed replica port left')
  assert.match(gwp, /jwks "http:\/\/127\.0\.0\.1:45555\/\.well-known\/jwks\.json"/)
  assert.match(gwp, /issuer "http:\/\/127\.0\.0\.1:9100\/"/)
  const r = compile(['bench.gwp'], { host: memoryHost({ 'bench.gwp': gwp }) })
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [])
  assert.deepEqual(r.ir!.upstreams[0].replicas.map((x) => x.port), [40000, 40001, 40002])
  assert.throws(() => portMap(sc, new Map()), /did not report replica users-1/)
})

test('port remapping rewrites whole port numbers only', () => {
  const map = new Map([[9201, 40001], [920, 1]])
  assert.equal(remapPorts('a 127.0.0.1:9201 b 127.0.0.1:92011 c 127.0.0.1:920 d 10.0.0.1:9201', map), 'a 127.0.0.1:40001 b 127.0.0.1:92011 c 127.0.0.1:1 d 10.0.0.1:9201')
})

test('the one-route policy compiles clean', () => {
  const gwp = tinyGwp({ replicas: ['127.0.0.1:1234', '127.0.0.1:1235'], connections: 2, idle: '30s' })
  const r = compile(['t.gwp'], { host: memoryHost({ 't.gwp': gwp }) })
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`), [])
  assert.equal(r.ir!.upstreams[0].pool.connections, 2)
})

test('CPU profiles: self time per function, by area, only inside the window', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0 })
  const profile = {
    startTime: 1_000_000, endTime: 1_000_400,
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
      { id: 2, callFrame: frame('forward', 'file:///r/dist/runtime/upstream/exchange.js') },
      { id: 3, callFrame: frame('_resume', 'file:///r/node_modules/undici/lib/dispatcher/client.js') },
      { id: 4, callFrame: frame('(garbage collector)', '') },
    ],
    samples: [2, 2, 3, 4, 2],
    timeDeltas: [100, 100, 100, 50, 50],
  }
  const all = summarizeProfile(profile, 'p', 10)
  assert.equal(all.totalMs, 0.4)
  assert.deepEqual(all.top.map((t) => [t.fn, t.where, t.selfMs]), [
    ['forward', 'dist/runtime/upstream/exchange.js:10', 0.3], ['_resume', 'node_modules/undici/lib/dispatcher/client.js:10', 0.1], ['(garbage collector)', '', 0.1],
  ].map(([f, w, ms]) => [f, w, Math.round((ms as number) * 10) / 10]))
  assert.deepEqual(all.byArea.map((a) => a.area), ['gw runtime/', 'undici', '(garbage collector)'])
  // Samples at t = 1_000_100, 200, 300, 350, 400: a window of [250, 360] keeps the undici and GC samples.
  const win = summarizeProfile(profile, 'p', 10, { fromUs: 1_000_250, toUs: 1_000_360 })
  assert.deepEqual(win.top.map((t) => t.fn).sort(), ['(garbage collector)', '_resume'])
  assert.equal(areaOf('node:internal/http', 'x'), 'node internals')
  assert.equal(areaOf('file:///r/node_modules/pino/x.js', 'x'), 'other node_modules')
})

test('the raw response reader splits content-length, chunked and read-until-close bodies, pipelined or in pieces', () => {
  let now = 0
  const r = new ResponseReader(() => now)
  const wire = Buffer.from(
    'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello' +
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n' +
    'HTTP/1.1 204 No Content\r\n\r\n' +
    'HTTP/1.0 200 OK\r\n\r\nuntil-close')
  const got = []
  for (let i = 0; i < wire.length; i += 7) { now = i; got.push(...r.feed(wire.subarray(i, i + 7))) }
  assert.deepEqual(got.map((x) => [x.status, x.bodyBytes]), [[413, 5], [200, 5], [204, 0]])
  assert.equal(got[0].headers.connection, 'keep-alive')
  assert.equal(got[1].headers['set-cookie'], 'a, b')
  assert.ok(got[0].headAt <= got[0].endAt)
  assert.deepEqual(r.end().map((x) => [x.status, x.bodyBytes]), [[200, 11]])
  assert.throws(() => new ResponseReader(() => 0).feed(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /bad status line/)
})
